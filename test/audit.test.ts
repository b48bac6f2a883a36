/**
 * The audit's rules (scripts/audit.ts), on saved `npm audit --json` reports: a high finding fails unless an
 * unexpired exception lists it; low findings pass; a report the registry could not give is never a pass
 * unless said optional.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const directory = mkdtempSync(join(tmpdir(), 'onset-audit-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const HIGH = 'test/fixtures/audit/report-high.json';

function audit(report: string, exceptions: unknown[], env: Record<string, string> = {}) {
  const file = join(directory, `exceptions-${Math.random()}.json`);
  writeFileSync(file, JSON.stringify(exceptions));
  const run = spawnSync('npx', ['tsx', 'scripts/audit.ts', '--report', report, '--exceptions', file], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: run.status, output: run.stdout + run.stderr };
}

describe('npm run audit', () => {
  it('fails on a high finding, naming it, and passes when an unexpired exception lists it', () => {
    const failed = audit(HIGH, []);
    expect(failed.status).toBe(1);
    expect(failed.output).toMatch(
      /1 high or critical finding.*\n.*high fast-xml-parser <4\.4\.1: an example high-severity advisory/,
    );
    expect(failed.output).not.toMatch(/brace-expansion/);
    const exception = {
      advisory: 'https://github.com/advisories/GHSA-example-high',
      package: 'fast-xml-parser',
      reason: 'only reached with trusted input',
    };
    const excepted = audit(HIGH, [{ ...exception, reviewBy: '2999-01-01' }]);
    expect(excepted.status).toBe(0);
    expect(excepted.output).toMatch(/excepted: fast-xml-parser/);
    const expired = audit(HIGH, [{ ...exception, reviewBy: '2020-01-01' }]);
    expect(expired.status).toBe(1);
    expect(expired.output).toMatch(/exception expired 2020-01-01/);
  }, 60_000);

  it('never passes silently when the registry gives no report', () => {
    const unreachable = join(directory, 'unreachable.json');
    writeFileSync(unreachable, JSON.stringify({ statusCode: 405, message: '405 Method Not Allowed' }));
    const failed = audit(unreachable, []);
    expect(failed.status).toBe(2);
    expect(failed.output).toMatch(/NO AUDIT WAS DONE/);
    const optional = audit(unreachable, [], { ONSET_AUDIT_OPTIONAL: '1' });
    expect(optional.status).toBe(0);
    expect(optional.output).toMatch(/NO AUDIT WAS DONE/);
  }, 60_000);
});
