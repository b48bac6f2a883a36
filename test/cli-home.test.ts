/**
 * Which Onset home a command uses, from the command line as a user meets it: without --home or
 * ONSET_HOME the nearest `.onset` in the working directory or above it (as git finds its repository), a
 * new one announced where it is made, none made by a command that only reads, and every "not found"
 * naming the store it looked in and how that store was chosen.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findHome } from '../src/config.js';
import { generateDataset, writeKaggleCsv } from '../src/data/generator/generator.js';
import { type CliResult, runCli, runCliAsync } from './support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'onset-cli-home-'));
/** A project folder whose home the first training makes, with a folder two levels down. */
const project = join(root, 'project');
const deep = join(project, 'src', 'deep');
const dataPath = join(project, 'train.csv');
/** `onset train` run in `project` with no home anywhere. */
let firstTraining: CliResult;
let firstRunId: string;

/** No ONSET_HOME, ONSET_TRACKING_URI or ONSET_ARTIFACT_URI (undefined leaves a variable out), and `env`. */
const unset = (env: NodeJS.ProcessEnv) => ({
  ONSET_HOME: undefined,
  ONSET_TRACKING_URI: undefined,
  ONSET_ARTIFACT_URI: undefined,
  ...env,
});

/** Runs the CLI in `cwd` with no home, store or artifact setting but those of `env`. */
function onsetIn(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(args, { cwd, env: unset(env) });
}

/** As `onsetIn`, without blocking. */
function onsetInAsync(cwd: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return runCliAsync(args, { cwd, env: unset(env) });
}

function trainIn(cwd: string): CliResult {
  return onsetIn(cwd, [
    'train',
    '--data',
    dataPath,
    '--model',
    'logistic',
    '--output',
    join(root, 'm.json'),
    '--json',
  ]);
}

beforeAll(async () => {
  // A .onset above the temporary folder would be found by every command here.
  expect(findHome(root), `a .onset folder above ${root}`).toBeUndefined();
  mkdirSync(deep, { recursive: true });
  await writeKaggleCsv(dataPath, generateDataset({ rows: 120, seed: 5 }));
  firstTraining = trainIn(project);
  expect(firstTraining.code, firstTraining.stderr).toBe(0);
  firstRunId = (JSON.parse(firstTraining.stdout) as { run_id: string }).run_id;
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the home a command uses', () => {
  it('is made where the first tracked command runs, and says so', () => {
    expect(firstTraining.stderr).toContain(
      `Created a new Onset home at ${join(project, '.onset')} (no .onset folder in ${project} or above it; --home or ONSET_HOME chooses another)`,
    );
    expect(existsSync(join(project, '.onset', 'onset.db'))).toBe(true);
  });

  it('is found from a folder below it, as git finds its repository, and not made again', () => {
    const listed = onsetIn(deep, ['runs', 'list', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(
      (JSON.parse(listed.stdout) as { runs: { info: { run_id: string } }[] }).runs.map((r) => r.info.run_id),
    ).toEqual([firstRunId]);
    const again = trainIn(deep);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/Created a new Onset home/);
    const both = JSON.parse(onsetIn(join(project, 'src'), ['runs', 'list', '--json']).stdout) as {
      runs: unknown[];
    };
    expect(both.runs).toHaveLength(2);
    expect(existsSync(join(deep, '.onset'))).toBe(false);
    expect(existsSync(join(project, 'src', '.onset'))).toBe(false);
  }, 60_000);

  it('is not made by a command that only reads: it says there is none and how to make one', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const commands = [
      ['runs', 'list'],
      ['runs', 'show', 'a'.repeat(32)],
      ['models', 'list'],
      ['models', 'show', 'parkinson-disease-prediction'],
      ['models', 'promote', 'parkinson-disease-prediction', '1', '--stage', 'Production'],
      ['pipeline', 'runs'],
      ['pipeline', 'schedule', 'list'],
    ];
    const [results, fromEnv, fromFlag] = await Promise.all([
      Promise.all(commands.map((args) => onsetInAsync(empty, args))),
      // A home named by ONSET_HOME or --home that does not exist is not made either.
      onsetInAsync(empty, ['runs', 'list'], { ONSET_HOME: 'typo' }),
      onsetInAsync(empty, ['models', 'list', '--home', 'typo']),
    ]);
    commands.forEach((args, i) => {
      expect(results[i]!.code, args.join(' ')).toBe(1);
      expect(results[i]!.stderr, args.join(' ')).toBe(
        `onset: no Onset home: there is no .onset folder in ${empty} or in a folder above it; make one with onset train or onset up (in the current folder), run the command from the folder that has one, or choose one with --home DIR or ONSET_HOME=DIR\n`,
      );
    });
    expect(existsSync(join(empty, '.onset'))).toBe(false);
    expect(fromEnv.stderr).toMatch(
      /^onset: no Onset home at \.\/typo \(ONSET_HOME\): the folder does not exist; make one/,
    );
    expect(fromFlag.stderr).toMatch(
      /^onset: no Onset home at \.\/typo \(--home\): the folder does not exist/,
    );
    expect(existsSync(join(empty, 'typo'))).toBe(false);
  }, 90_000);

  it('is made by a command that writes, even where ONSET_HOME names a folder that is not there yet', () => {
    const result = onsetIn(root, ['pipeline', 'schedule', 'add', 'train-all', '--cron', '0 3 * * *'], {
      ONSET_HOME: 'fresh-home',
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(`Created a new Onset home at ${join(root, 'fresh-home')} (ONSET_HOME)\n`);
    expect(existsSync(join(root, 'fresh-home', 'onset.db'))).toBe(true);
  });
});

describe('what is not found', () => {
  const missingRun = 'f'.repeat(32);

  it('names the store looked in and how it was chosen', async () => {
    const cases: [cwd: string, args: string[], env: NodeJS.ProcessEnv, message: string][] = [
      [
        root,
        ['runs', 'show', missingRun],
        { ONSET_HOME: join(project, '.onset') },
        `onset: Run with id=${missingRun} not found in ./project/.onset (ONSET_HOME)`,
      ],
      [
        root,
        ['models', 'show', 'nope', '--home', 'project/.onset'],
        {},
        'onset: Registered Model with name=nope not found in ./project/.onset (--home)',
      ],
      [
        project,
        ['pipeline', 'logs', 'nope'],
        {},
        'onset: Pipeline run nope does not exist in ./.onset (found here)',
      ],
      [
        deep,
        ['runs', 'list', '--experiment', 'nope'],
        {},
        'onset: Could not find experiment with name nope in ../../.onset (found above); its experiments: parkinson-disease-prediction, Default (--experiment NAME)',
      ],
      [
        root,
        [
          'runs',
          'compare',
          firstRunId,
          missingRun,
          '--tracking-uri',
          `sqlite:${join(project, '.onset', 'onset.db')}`,
        ],
        {},
        `onset: Run with id=${missingRun} not found in sqlite:${join(project, '.onset', 'onset.db')} (--tracking-uri)`,
      ],
    ];
    const results = await Promise.all(cases.map(([cwd, args, env]) => onsetInAsync(cwd, args, env)));
    cases.forEach(([, args, , message], i) => {
      expect(results[i]!.code, args.join(' ')).toBe(1);
      expect(results[i]!.stderr).toBe(`${message}\n`);
    });
  }, 90_000);
});
