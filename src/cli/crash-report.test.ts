import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crashReportFolder, crashReportText, redactedCommandLine, writeCrashReport } from './crash-report.js';

const dir = mkdtempSync(join(tmpdir(), 'onset-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the report of an unexpected error', () => {
  it("goes to the home's logs folder when the home exists, else to the temporary folder", () => {
    expect(crashReportFolder(dir)).toBe(join(dir, 'logs'));
    expect(crashReportFolder(join(dir, 'no-such-home'))).toBe(tmpdir());
    expect(crashReportFolder(undefined)).toBe(tmpdir());
  });

  it('leaves secrets out of the command line it records', () => {
    expect(
      redactedCommandLine([
        'send',
        '--api-key',
        'k-123',
        '--admin-token=t-9',
        '--tracking-uri',
        'postgres://onset:s3cret@db:5432/onset',
        '-n',
        '3',
      ]),
    ).toBe('send --api-key *** --admin-token=*** --tracking-uri postgres://onset:***@db:5432/onset -n 3');
  });

  it('holds the stack and the causes, in a file only its owner reads', () => {
    const error = new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ECONNREFUSED' }) });
    const path = writeCrashReport(join(dir, 'logs'), crashReportText(error, ['runs', 'list'], '0.1.0'));
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^onset 0\.1\.0: unexpected error at \d{4}-/);
    expect(text).toContain('command: onset runs list');
    expect(text).toMatch(/Error: outer\n\s+at /);
    expect(text).toMatch(/\[cause\]: Error: inner[\s\S]*code: 'ECONNREFUSED'/);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
