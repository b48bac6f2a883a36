import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Streams text to a temporary file beside `path` and renames it into place on `commit`, so a failed or
 * refused run never leaves a partial file (or replaces a good one).
 */
export class AtomicTextWriter {
  private readonly temporary: string;
  private readonly out: WriteStream;

  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    this.out = createWriteStream(this.temporary, { encoding: 'utf8' });
  }

  async write(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async commit(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
    await rename(this.temporary, this.path);
  }

  async abort(): Promise<void> {
    if (!this.out.closed) {
      this.out.destroy();
      await once(this.out, 'close').catch(() => undefined);
    }
    await rm(this.temporary, { force: true });
  }
}

/** Writes a whole text file atomically. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const writer = new AtomicTextWriter(path);
  try {
    await writer.write(text);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
