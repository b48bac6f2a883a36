import { createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LOG_SECRET_FILE, PatientKeys, resolveLogSecret } from './patient-keys.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-log-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('patient keys', () => {
  it('are the HMAC-SHA256 of the patient id under the secret, never the id', () => {
    const keys = new PatientKeys('k'.repeat(32));
    expect(keys.keyOf('P-1')).toBe(createHmac('sha256', 'k'.repeat(32)).update('P-1').digest('hex'));
    expect(keys.keyOf('P-1')).toMatch(/^[0-9a-f]{64}$/);
    expect(keys.keyOf('P-1')).toBe(keys.keyOf('P-1'));
    expect(keys.keyOf('P-2')).not.toBe(keys.keyOf('P-1'));
    expect(new PatientKeys('j'.repeat(32)).keyOf('P-1')).not.toBe(keys.keyOf('P-1'));
  });
});

describe('the log secret', () => {
  it('is ONSET_LOG_SECRET when set, and nothing is written', async () => {
    const home = join(dir, 'configured');
    expect(await resolveLogSecret('c'.repeat(32), home)).toEqual({
      secret: 'c'.repeat(32),
      source: 'setting',
    });
    expect(statSync(home, { throwIfNoEntry: false })).toBeUndefined();
  });

  it('is made once in the home (0600) and the same on every later start', async () => {
    const home = join(dir, 'home');
    const made = await resolveLogSecret(undefined, home);
    const path = join(home, LOG_SECRET_FILE);
    expect(made).toEqual({ secret: expect.stringMatching(/^[0-9a-f]{64}$/), source: 'new', path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').trim()).toBe(made.secret);
    expect(await resolveLogSecret(undefined, home)).toEqual({ secret: made.secret, source: 'home', path });
    // A copy that loosened its permissions gets them back.
    chmodSync(path, 0o644);
    await resolveLogSecret(undefined, home);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('is one secret when several processes start at once', async () => {
    const home = join(dir, 'race');
    const all = await Promise.all(Array.from({ length: 8 }, () => resolveLogSecret(undefined, home)));
    expect(new Set(all.map((found) => found.secret)).size).toBe(1);
    expect(all.filter((found) => found.source === 'new')).toHaveLength(1);
  });

  it('refuses a damaged file rather than keying with it', async () => {
    const home = join(dir, 'damaged');
    await resolveLogSecret(undefined, home);
    writeFileSync(join(home, LOG_SECRET_FILE), 'short\n');
    await expect(resolveLogSecret(undefined, home)).rejects.toThrow(/is damaged .*ONSET_LOG_SECRET/);
  });
});
