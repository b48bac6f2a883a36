import { createHmac, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OnsetError } from '../../errors.js';

/**
 * Patient ids as the prediction log keeps them: the HMAC-SHA256 of the id under a secret key, in hex.
 * The same id always gives the same key (feedback by `patient_id` finds the patient's predictions), but
 * the key cannot be turned back into the id, nor made from a guessed id, without the secret.
 */
export class PatientKeys {
  /** As bytes: an HMAC keyed with a buffer is made faster than with a string. */
  readonly #secret: Buffer;

  constructor(secret: string) {
    this.#secret = Buffer.from(secret, 'utf8');
  }

  /** The key of a patient id (64 hex digits). */
  keyOf(patientId: string): string {
    return createHmac('sha256', this.#secret).update(patientId, 'utf8').digest('hex');
  }
}

/** The file in the home that keeps the secret made for a server on loopback without ONSET_LOG_SECRET. */
export const LOG_SECRET_FILE = 'log-secret';

/** Where a log secret came from: ONSET_LOG_SECRET, the home's file, or made just now (and kept there). */
export type LogSecretSource = 'setting' | 'home' | 'new';

/**
 * The secret of the patient keys: `configured` (ONSET_LOG_SECRET) when set; else the one kept in
 * `home/log-secret`, made (32 random bytes, hex) with permissions 0600 the first time, so that keys
 * stay the same across restarts. Processes starting at once agree on one file: it appears whole or not
 * at all (written aside, then linked into place, which fails if another got there first).
 */
export async function resolveLogSecret(
  configured: string | undefined,
  home: string,
): Promise<{ readonly secret: string; readonly source: LogSecretSource; readonly path?: string }> {
  if (configured !== undefined) return { secret: configured, source: 'setting' };
  const path = join(home, LOG_SECRET_FILE);
  const made = randomBytes(32).toString('hex');
  await mkdir(home, { recursive: true });
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await writeFile(aside, `${made}\n`, { mode: 0o600, flag: 'wx' });
    await link(aside, path);
    return { secret: made, source: 'new', path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new OnsetError(
        'INVALID_PARAMETER_VALUE',
        `Cannot keep the prediction log's secret in ${path}: ${(error as Error).message}; set ONSET_LOG_SECRET instead`,
        { cause: error },
      );
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
  // Kept from an earlier start: others must not read it, whatever copied the home meanwhile.
  if (((await stat(path)).mode & 0o077) !== 0) await chmod(path, 0o600);
  const kept = (await readFile(path, 'utf8')).trim();
  if (kept.length < 32) {
    throw new OnsetError(
      'INVALID_STATE',
      `The prediction log's secret in ${path} is damaged (shorter than 32 characters); restore it from a backup, or delete it (patient keys made with it will no longer match), or set ONSET_LOG_SECRET`,
    );
  }
  return { secret: kept, source: 'home', path };
}
