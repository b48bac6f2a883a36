/**
 * What a user sees in the terminal, from the real CLI in a fresh process: errors (a busy port, an
 * unexpected failure, usage errors) as one `onset:` line with the documented exit code, the server's
 * log as readable lines on a terminal and JSON otherwise, progress of long pipeline blocks, and tables
 * whose numbers line up. A terminal is a real pseudo-terminal, made by util-linux's `script`.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../src/data/schema.js';
import { saveModelDocument } from '../src/ml/model-document.js';
import { trainOnDataset } from '../src/ml/train-on-dataset.js';
import { runCli } from './support/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = [process.execPath, '--import', 'tsx', `${ROOT}/src/cli/main.ts`];
const directory = mkdtempSync(join(tmpdir(), 'onset-terminal-'));
const dataPath = join(directory, 'patients.csv');
const modelPath = join(directory, 'logistic.json');
/** A home per test, so what one leaves does not change another. */
const homeFor = (name: string) => join(directory, `home-${name}`);

beforeAll(async () => {
  const dataset = generateDataset({ rows: 400, seed: 5 });
  await writeKaggleCsv(dataPath, dataset);
  await saveModelDocument(modelPath, trainOnDataset(dataset, { estimator: 'logistic' }).document);
});
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The lines of a text, without the last empty one. */
const linesOf = (text: string) =>
  text.split(/\r?\n/).filter((line, i, all) => line !== '' || i < all.length - 1);

function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({ server, port: typeof address === 'object' && address ? address.port : 0 });
    }),
  );
}

/** The escape character that starts a terminal's control sequences (colours, clearing a line). */
const ESC = '\x1b';

const shellQuote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

interface Running {
  readonly child: ChildProcessWithoutNullStreams;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Resolves when the output matches `pattern`; fails when the process ends first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/**
 * Starts the CLI with its stdout and stderr in a real pseudo-terminal (`script`), or in pipes as a log
 * collector would read them. The terminal merges both streams into one output, as a person sees it.
 */
function start(args: readonly string[], env: NodeJS.ProcessEnv, terminal: boolean): Running {
  const child = terminal
    ? spawn('script', ['-qefc', [...CLI, ...args].map(shellQuote).join(' '), '/dev/null'], {
        cwd: ROOT,
        env: { ...process.env, ...env, TERM: 'xterm' },
      })
    : spawn(CLI[0]!, [...CLI.slice(1), ...args], { cwd: ROOT, env: { ...process.env, ...env } });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(output);
        if (match) return match;
        if (child.exitCode !== null)
          throw new Error(`exited (${child.exitCode}) before ${pattern}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

async function stop(running: Running): Promise<void> {
  running.child.kill('SIGTERM');
  await running.exited;
}

describe('errors in the terminal', () => {
  it('a busy port: one line naming the port and how to choose another, exit 1, for up and serve', async () => {
    const { server, port } = await occupiedPort();
    try {
      const expected = `onset: Port ${port} on 127.0.0.1 is already in use (by another Onset or another program): choose another with --port N or ONSET_PORT=N\n`;
      const serve = runCli(['serve', '--port', String(port), '--model', modelPath], {
        env: { ONSET_HOME: homeFor('busy-serve') },
      });
      expect(serve.code).toBe(1);
      // A new home is announced first (the home rule); then the one line.
      const afterHome = (text: string) => text.replace(/^Created a new Onset home at .*\n/, '');
      expect(afterHome(serve.stderr)).toBe(expected);
      const up = runCli(['up'], { env: { ONSET_HOME: homeFor('busy-up'), ONSET_PORT: String(port) } });
      expect(up.code).toBe(1);
      expect(afterHome(up.stderr)).toBe(expected);
      // Nothing was trained for a server that could not start.
      expect(up.stdout).not.toMatch(/train-all/);
    } finally {
      server.close();
    }
  }, 60_000);

  it('an unexpected error: one line and where the full trace is (the home, else the temporary folder); ONSET_DEBUG prints it', () => {
    // PostgreSQL refusing the connection is an error no Onset code expects (the port 1 is closed): if the
    // stores come to explain it, choose another.
    const store = 'postgres://onset:s3cret@127.0.0.1:1/onset';
    const home = homeFor('crash');
    mkdirSync(home);
    const inHome = runCli(['runs', 'list', '--tracking-uri', store], { env: { ONSET_HOME: home } });
    expect(inHome.code).toBe(1);
    const [message, where, ...more] = linesOf(inHome.stderr);
    expect(message).toBe('onset: connect ECONNREFUSED 127.0.0.1:1');
    expect(more).toEqual([]);
    const path = /^onset: an unexpected error; the full trace is in (\S+) \(ONSET_DEBUG=1 prints it\)$/.exec(
      where!,
    )?.[1];
    expect(path?.startsWith(join(home, 'logs', 'onset-error-'))).toBe(true);
    const report = readFileSync(path!, 'utf8');
    expect(report).toMatch(/Error: connect ECONNREFUSED 127\.0\.0\.1:1\n\s+at /);
    expect(report).toContain(
      'command: onset runs list --tracking-uri postgres://onset:***@127.0.0.1:1/onset',
    );
    expect(report).not.toContain('s3cret');

    // No home (a command that needs no store, run elsewhere): the report goes to the temporary folder, and
    // no home is made for it. Reading /proc/self/mem fails with EIO, which no Onset code expects.
    const temporary = join(directory, 'tmp');
    mkdirSync(temporary);
    const noHome = runCli(['model', 'report', '/proc/self/mem'], {
      env: { ONSET_HOME: homeFor('none'), TMPDIR: temporary },
    });
    expect(noHome.code).toBe(1);
    expect(noHome.stderr).toMatch(
      new RegExp(
        `^onset: EIO: i/o error, read\nonset: an unexpected error; the full trace is in ${temporary}/onset-error-\\S+\\.log `,
      ),
    );
    // (tsx keeps its cache there too)
    expect(readdirSync(temporary).filter((name) => name.startsWith('onset-error-'))).toHaveLength(1);
    expect(existsSync(homeFor('none'))).toBe(false);

    const debug = runCli(['runs', 'list', '--tracking-uri', store], {
      env: { ONSET_HOME: home, ONSET_DEBUG: '1' },
    });
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/^onset: connect ECONNREFUSED 127\.0\.0\.1:1\n/);
    expect(debug.stderr).toMatch(/Error: connect ECONNREFUSED[^\n]*\n\s+at /);
    expect(readdirSync(join(home, 'logs'))).toHaveLength(1);
  }, 60_000);

  it("usage errors, commander's own too, exit 2 with one onset: line naming the command's help", () => {
    const cases: [readonly string[], RegExp][] = [
      [['frobnicate'], /^onset: unknown command 'frobnicate'; see onset --help$/],
      [
        ['data', 'profile', dataPath, '--jsn'],
        /^onset: unknown option '--jsn' \(Did you mean --json\?\); see onset data profile --help$/,
      ],
      [['data', 'validate'], /^onset: missing required argument 'file'; see onset data validate --help$/],
      [
        ['send', '-n', 'many'],
        /^onset: option '-n, --n <count>' argument 'many' is invalid\. expected a positive integer, got "many"; see onset send --help$/,
      ],
      [['pipeline', 'run', 'train-everything'], /^onset: No pipeline "train-everything"; known pipelines: /],
      [['pipeline', 'run', 'train-gbdt', '--param', 'trials=many'], /^onset: .*"trials": expected a number/],
      [
        ['train', '-d', dataPath, '-m', 'gbdt', '-o', 'x.json', '-p', 'depth=3'],
        /^onset: Unknown parameter "depth"/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const result = runCli(args, { env: { ONSET_HOME: homeFor('usage') } });
      expect(result.code, args.join(' ')).toBe(2);
      expect(linesOf(result.stderr), args.join(' ')).toEqual([expect.stringMatching(pattern)]);
    }
  }, 60_000);
});

describe("the server's log", () => {
  const record = (() => {
    const one = generateDataset({ rows: 1, seed: 9 });
    return Object.fromEntries(FEATURE_NAMES.map((name) => [name, one.columns[name][0]!]));
  })();
  const predict = (address: string) =>
    fetch(`${address}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ data: record, patient_id: 'P-PRIVATE-4711' }),
    });

  it('is one JSON object a line when stdout is not a terminal; the start-up text stays readable', async () => {
    const server = start(
      ['serve', '--port', '0', '--model', modelPath],
      { ONSET_HOME: homeFor('json') },
      false,
    );
    try {
      const [, address] = await server.waitFor(/Onset is up on (http:\/\/[\d.:]+)\n[\s\S]*artifacts/);
      expect((await predict(address!)).status).toBe(200);
      // Also a table whose numbers line up: the probability always has four decimals.
      const sent = runCli(['send', '--url', address!, '-n', '6']);
      expect(sent.code, sent.stderr).toBe(0);
      expectAlignedNumbers(sent.stdout);
      expect(sent.stdout).toMatch(/^\d+\s+200\s+0\.\d{4}\s+[01]\s/m);
      const lines = linesOf(server.output());
      const json = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
      expect(json).toContainEqual(
        expect.objectContaining({ level: 30, msg: expect.stringMatching(/^Server listening at/) }),
      );
      expect(json).toContainEqual(expect.objectContaining({ msg: 'model loaded' }));
      expect(lines).toContain(`Onset is up on ${address}`);
      // Neither patient identifiers nor feature values are logged.
      expect(server.output()).not.toContain('P-PRIVATE-4711');
      expect(server.output()).not.toMatch(/UPDRS|MoCA/);
    } finally {
      await stop(server);
    }
  }, 60_000);

  it('is one readable line an event on a terminal, and where ONSET_LOG_FORMAT=pretty asks', async () => {
    for (const [terminal, env] of [
      [true, {}],
      [false, { ONSET_LOG_FORMAT: 'pretty' }],
    ] as const) {
      const server = start(
        ['serve', '--port', '0', '--model', modelPath],
        { ONSET_HOME: homeFor('pretty'), ...env },
        terminal,
      );
      try {
        const [, address] = await server.waitFor(/Onset is up on (http:\/\/[\d.:]+)\r?\n[\s\S]*artifacts/);
        expect((await predict(address!)).status).toBe(200);
        const plain = server.output().replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
        // Each worker says it listens, naming itself (one per core: --workers defaults to the cores).
        expect(plain).toMatch(
          /^\[\d\d:\d\d:\d\d\] INFO: (worker \d+: )?Server listening at http:\/\/127\.0\.0\.1:\d+\r?$/m,
        );
        expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: (worker \d+: )?model loaded \{"model":/m);
        expect(plain).not.toMatch(/^\{"level"/m);
        expect(plain).not.toContain('P-PRIVATE-4711');
        // Colours only on a terminal.
        expect(server.output().includes('\x1b[')).toBe(terminal);
      } finally {
        await stop(server);
      }
    }
  }, 60_000);

  it('refuses a format it does not know', () => {
    const result = runCli(['serve', '--port', '0', '--model', modelPath], {
      env: { ONSET_HOME: homeFor('bad-format'), ONSET_LOG_FORMAT: 'xml' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('onset: ONSET_LOG_FORMAT must be one of pretty, json, got "xml"\n');
  });
});

describe('progress of a pipeline run', () => {
  const args = [
    'pipeline',
    'run',
    'train-gbdt',
    '--data',
    dataPath,
    '--param',
    'trials=12',
    '--param',
    'cv=2',
  ];

  it('off a terminal: block starts and ends with durations, and a few plain lines of tuning progress', () => {
    const run = runCli(args, { env: { ONSET_HOME: homeFor('progress') } });
    expect(run.code, run.stderr).toBe(0);
    const lines = linesOf(run.stderr);
    const trials = lines.filter((line) => /^ {4}train-gbdt: trials \d+\/12 \(\d+%, [\d.]+ s\)$/.test(line));
    // The first trial, each quarter and the end: a log is told, not flooded.
    expect(trials.map((line) => /trials (\d+)/.exec(line)![1])).toEqual(['1', '3', '6', '9', '12']);
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}> train-gbdt$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}OK train-gbdt SUCCEEDED \(\d+\.\d s\)$/));
    expect(run.stderr).not.toContain('\r');
  }, 60_000);

  it('on a terminal: a bar redrawn in place', async () => {
    const run = start(args, { ONSET_HOME: homeFor('progress-tty') }, true);
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(
      new RegExp(`\\r${ESC}\\[2K {4}train-gbdt: trials 12/12 \\[█{20}\\] 100%, [\\d.]+ s`),
    );
    expect(run.output()).toMatch(/✔ train-gbdt SUCCEEDED \(\d+\.\d s\)/);
  }, 60_000);
});

/**
 * Checks every table in `text` (a header, a rule of ─ and rows): the numbers of a column (of one key, in
 * `key=value` cells; percentages apart) all have the same number of decimals.
 */
function expectAlignedNumbers(text: string): void {
  const lines = text.split('\n');
  let tables = 0;
  lines.forEach((rule, at) => {
    if (!/^─+( {2}─+)*$/.test(rule)) return;
    tables++;
    const spans = [...rule.matchAll(/─+/g)].map((m) => [m.index!, m.index! + m[0].length] as const);
    const decimals = new Map<string, Set<number>>();
    const gaps = spans.slice(1).map(([from], column) => [spans[column]![1], from] as const);
    for (const row of lines.slice(at + 1)) {
      // The table ends at a line that is empty or does not keep its column gaps blank (a note below it).
      if (row.trim() === '' || gaps.some(([from, to]) => row.slice(from, to).trim() !== '')) break;
      spans.forEach(([from, to], column) => {
        const cell = column === spans.length - 1 ? row.slice(from) : row.slice(from, to);
        for (const token of cell.trim().split(/[\s±·]+/)) {
          const [key, value] = token.includes('=') ? token.split('=', 2) : ['', token];
          const number = /^-?\d+(?:\.(\d+))?(%?)$/.exec(value ?? '');
          if (!number) continue;
          const group = `${lines[at - 1]!.slice(from, to).trim()} ${key}${number[2]}`;
          if (!decimals.has(group)) decimals.set(group, new Set());
          decimals.get(group)!.add(number[1]?.length ?? 0);
        }
      });
    }
    for (const [group, counts] of decimals) {
      expect([...counts], `decimals in column "${group}" of\n${lines.slice(at - 1).join('\n')}`).toHaveLength(
        1,
      );
    }
  });
  expect(tables).toBeGreaterThan(0);
}

describe('tables', () => {
  it('show the numbers of a column with the same decimals, and experiments by name with their id', () => {
    const env = { ONSET_HOME: homeFor('tables') };
    const onset = (...args: string[]) => {
      const result = runCli(args, { env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(0);
      return result.stdout;
    };
    expectAlignedNumbers(onset('data', 'profile', dataPath));
    const trained = onset(
      'train',
      '-d',
      dataPath,
      '-m',
      'gbdt',
      '--cv',
      '3',
      '-o',
      join(directory, 'gbdt.json'),
    );
    expectAlignedNumbers(trained);
    const runId =
      /logged run (\w+) in experiment parkinson-disease-prediction \(id (\d+); onset runs show \1\)/.exec(
        trained,
      );
    expect(runId).not.toBeNull();
    const tuned = onset(
      'train',
      '-d',
      dataPath,
      '-m',
      'gbdt',
      '--tune',
      '4',
      '--cv',
      '2',
      '-o',
      join(directory, 'tuned.json'),
    );
    const tunedRun = /logged run (\w+)/.exec(tuned)![1]!;
    const list = onset('runs', 'list');
    expectAlignedNumbers(list);
    const shown = onset('runs', 'show', runId![1]!);
    expect(shown).toMatch(
      new RegExp(
        `^run ${runId![1]} \\(\\S+\\) in experiment parkinson-disease-prediction \\(id ${runId![2]}\\)$`,
        'm',
      ),
    );
    // Parameters are shown as they were logged (strings); the metrics line up.
    expectAlignedNumbers(shown.slice(shown.indexOf('metric (latest)')));
    expectAlignedNumbers(onset('runs', 'compare', runId![1]!, tunedRun).split('\n\n')[1]!);
    onset('models', 'register', runId![1]!);
    onset('models', 'register', tunedRun);
    onset('models', 'promote', 'parkinson-disease-prediction', '1', '--stage', 'Staging');
    const models = onset('models', 'show', 'parkinson-disease-prediction');
    expectAlignedNumbers(models);
    // Times are printed one way everywhere: as `runs list` prints a run's start.
    const started = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/;
    expect(list).toMatch(started);
    const transition = models.split('\n').find((line) => /\sNone\s+Staging\s/.test(line));
    expect(transition).toMatch(new RegExp(`^${started.source}  `));
    expect(models).not.toMatch(/\d\dT\d\d:/);
    expectAlignedNumbers(onset('model', 'report', join(directory, 'gbdt.json')));
    expectAlignedNumbers(
      onset('explain', '-m', join(directory, 'gbdt.json'), '-i', dataPath, '-o', join(directory, 'e.csv')),
    );
    expectAlignedNumbers(onset('evaluate', '-m', join(directory, 'gbdt.json'), '-d', dataPath));
    const run = runCli(['pipeline', 'run', 'train-logistic', '--data', dataPath, '--param', 'cv=2'], { env });
    expect(run.code, run.stderr).toBe(0);
    expectAlignedNumbers(run.stdout);
  }, 180_000);
});
