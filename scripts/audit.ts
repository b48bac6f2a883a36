/**
 * `npm run audit`: the production dependencies' known vulnerabilities (`npm audit --omit=dev`), failing on
 * high or critical ones unless `audit-exceptions.json` lists the advisory with a reason and a review date.
 * Exit codes: 0 clean (or only excepted/low findings), 1 findings to fix, 2 the audit could not run.
 * `--report <file>` reads a saved `npm audit --json` report instead of running it (how the tests check the
 * rules); `--exceptions <file>` reads another exceptions file.
 *
 * Where the registry has no advisory endpoint (a read-only mirror answers 405), no audit is possible:
 * that is said loudly and exits 0 when ONSET_AUDIT_OPTIONAL=1 (how .ci/run calls it on such machines),
 * 2 otherwise, so it never passes silently.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

interface Advisory {
  readonly source?: number;
  readonly title?: string;
  readonly url?: string;
  readonly severity?: string;
  readonly range?: string;
}
interface AuditReport {
  readonly vulnerabilities?: Readonly<
    Record<string, { readonly severity: string; readonly via: readonly (Advisory | string)[] }>
  >;
  readonly statusCode?: number;
  readonly message?: string;
  readonly error?: { readonly summary?: string };
}
interface AuditException {
  readonly advisory: string;
  readonly package: string;
  readonly reason: string;
  readonly reviewBy: string;
}

const FAILING = new Set(['high', 'critical']);

function runAudit(): AuditReport {
  try {
    return JSON.parse(
      execFileSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' }),
    ) as AuditReport;
  } catch (error) {
    // npm audit exits non-zero when it finds something (or fails); its JSON is on stdout either way.
    const stdout = (error as { stdout?: string }).stdout ?? '';
    try {
      return JSON.parse(stdout) as AuditReport;
    } catch {
      return { message: String((error as Error).message) };
    }
  }
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

const exceptionsFile = option('--exceptions') ?? new URL('../audit-exceptions.json', import.meta.url);
const exceptions = JSON.parse(readFileSync(exceptionsFile, 'utf8')) as readonly AuditException[];
const reportFile = option('--report');
const report = reportFile ? (JSON.parse(readFileSync(reportFile, 'utf8')) as AuditReport) : runAudit();
if (report.vulnerabilities === undefined) {
  const why = report.message ?? report.error?.summary ?? 'no report';
  process.stderr.write(
    `npm audit could not run: ${why}\nNO AUDIT WAS DONE: run npm run audit where the npm registry's advisory endpoint is reachable.\n`,
  );
  process.exit(process.env.ONSET_AUDIT_OPTIONAL === '1' ? 0 : 2);
}

const today = new Date().toISOString().slice(0, 10);
const findings: string[] = [];
for (const [name, vulnerability] of Object.entries(report.vulnerabilities)) {
  for (const via of vulnerability.via) {
    if (typeof via === 'string' || !FAILING.has(via.severity ?? '')) continue;
    const advisory = via.url ?? String(via.source);
    const excepted = exceptions.find((e) => e.advisory === advisory && e.package === name);
    if (excepted && excepted.reviewBy >= today) {
      process.stdout.write(
        `excepted: ${name} ${advisory} (${excepted.reason}; review by ${excepted.reviewBy})\n`,
      );
      continue;
    }
    findings.push(
      `${via.severity} ${name} ${via.range ?? ''}: ${via.title ?? ''} ${advisory}${excepted ? ` (exception expired ${excepted.reviewBy})` : ''}`,
    );
  }
}
const counted = Object.keys(report.vulnerabilities).length;
if (findings.length > 0) {
  process.stderr.write(
    `npm audit: ${findings.length} high or critical finding(s) in production dependencies:\n${findings.map((f) => `  ${f}`).join('\n')}\nUpgrade, or list the advisory in audit-exceptions.json with a reason and a review date.\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `npm audit: no high or critical findings in production dependencies (${counted} package(s) with lower ones)\n`,
);
