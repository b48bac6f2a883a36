/**
 * Every command the README shows, run in order as a new user would: from an empty folder, against the
 * platform `npm start` starts (`onset up` on a free port). Commands are read from the README's `bash` blocks
 * and the `$ ` lines of its `console` blocks, so a command added there is run here too; placeholders
 * (`<run-id>`, `<version>`) take what the commands before them printed. What is not run is listed, with
 * why: `npm install` and `npm test` are what CI runs around this suite, and `npm start` / `onset up` is
 * the server this test starts.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_REAL_DATA, REAL_DATA_PATH } from './support/fixtures.js';
import { freePort } from './support/ports.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'src/cli/main.ts');
const TSX = import.meta.resolve('tsx');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** A command of the README and where it is. */
interface ReadmeCommand {
  readonly line: number;
  readonly text: string;
}

/** The commands of the README's `bash` blocks and the `$ ` lines of its `console` blocks, in order. */
function readmeCommands(markdown: string): ReadmeCommand[] {
  const commands: ReadmeCommand[] = [];
  let block: string | undefined;
  markdown.split('\n').forEach((raw, index) => {
    const fence = /^```(\w*)/.exec(raw);
    if (fence) {
      block = block === undefined ? fence[1]! : undefined;
      return;
    }
    if (block === 'bash') {
      const text = raw.replace(/\s+#\s.*$/, '').trim();
      if (text !== '' && !text.startsWith('#')) commands.push({ line: index + 1, text });
    } else if (block === 'console' && raw.startsWith('$ ')) {
      commands.push({ line: index + 1, text: raw.slice(2).trim() });
    }
  });
  return commands;
}

/** What the test does not run itself, and why. */
const NOT_RUN: readonly [RegExp, string][] = [
  [/^npm install && npm start$/, 'CI installs with npm ci, and this test starts what npm start starts'],
  [/^npm test$/, 'this suite is npm test'],
  [/^npx onset up$/, 'the server this test started'],
];

describe("the README's commands", () => {
  const folder = mkdtempSync(join(tmpdir(), 'onset-readme-'));
  const downloads = join(folder, 'Downloads');
  let port: number;
  let server: ChildProcess | undefined;
  let serverOutput = '';
  // As a new user: no ONSET_HOME (the home is found or made in the folder), the server on a free port.
  const env = () => {
    const variables: NodeJS.ProcessEnv = { ...process.env, ONSET_PORT: String(port) };
    delete variables.ONSET_HOME;
    return variables;
  };

  beforeAll(async () => {
    port = await freePort();
    mkdirSync(downloads, { recursive: true });
    if (HAS_REAL_DATA) copyFileSync(REAL_DATA_PATH, join(downloads, 'parkinsons_disease_data.csv'));
    server = spawn(process.execPath, ['--import', TSX, CLI, 'up'], { cwd: folder, env: env() });
    server.stdout?.on('data', (chunk: Buffer) => {
      serverOutput += chunk.toString();
    });
    server.stderr?.on('data', (chunk: Buffer) => {
      serverOutput += chunk.toString();
    });
    const deadline = Date.now() + 180_000;
    for (;;) {
      if (server.exitCode !== null) throw new Error(`onset up exited (${server.exitCode}):\n${serverOutput}`);
      try {
        if ((await fetch(`http://127.0.0.1:${port}/ready`)).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`onset up was not ready after 180 s:\n${serverOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }, 200_000);

  afterAll(async () => {
    if (server && server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((resolve) => server!.once('exit', resolve));
    }
    rmSync(folder, { recursive: true, force: true });
  });

  it('finds the commands, and knows each one it does not run', () => {
    const commands = readmeCommands(README);
    expect(commands.length).toBeGreaterThan(10);
    for (const [pattern] of NOT_RUN) {
      expect(
        commands.some((command) => pattern.test(command.text)),
        `${pattern} is no longer in the README`,
      ).toBe(true);
    }
  });

  it('runs every one of them in order, each ending with exit code 0', () => {
    const printed: string[] = [];
    const placeholder = (name: string, pattern: RegExp, line: number): string => {
      for (let i = printed.length - 1; i >= 0; i--) {
        const found = pattern.exec(printed[i]!);
        if (found) return found[1]!;
      }
      throw new Error(`README line ${line}: nothing printed before it gives ${name}`);
    };
    for (const { line, text } of readmeCommands(README)) {
      if (NOT_RUN.some(([pattern]) => pattern.test(text))) continue;
      if (text.includes('~/Downloads/') && !HAS_REAL_DATA) continue;
      let command = text
        .replaceAll('<run-id>', () => placeholder('<run-id>', /logged run ([0-9a-f]{32})/, line))
        .replaceAll('<version>', () => placeholder('<version>', /registered \S+ version (\d+)/, line))
        .replaceAll('localhost:9696', `127.0.0.1:${port}`)
        .replaceAll('~/', `${folder}/`);
      const onset = command.startsWith('npx onset ');
      if (onset) command = command.slice('npx onset '.length);
      const result = onset
        ? spawnSync(process.execPath, ['--import', TSX, CLI, ...shellWords(command)], {
            cwd: folder,
            env: env(),
            encoding: 'utf8',
            timeout: 180_000,
          })
        : spawnSync('bash', ['-c', command], { cwd: folder, env: env(), encoding: 'utf8', timeout: 60_000 });
      expect(result.status, `README line ${line}: ${text}\n${result.stdout}\n${result.stderr}`).toBe(0);
      if (command.startsWith('curl')) {
        expect(result.stdout, `README line ${line}: ${text}`).not.toMatch(/"error_code"/);
      }
      printed.push(`${result.stdout}\n${result.stderr}`);
    }
  }, 600_000);
});

/** Splits a command line into words as a shell would for these commands (quotes, no expansions). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const pattern = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let match = pattern.exec(line); match !== null; match = pattern.exec(line)) {
    words.push(match[1] ?? match[2] ?? match[3]!);
  }
  return words;
}
