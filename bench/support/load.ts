/**
 * HTTP load for the serving benchmarks, from autocannon (in this Node process: on a 2-core machine it takes
 * a core the server shares with nothing else) or from `wrk` (C, one thread, Debian's `wrk`; the load some
 * issues quote their reference figures with). Each POST sends the next body of `bodies` in turn. Besides
 * the client's figures, the server's CPU time per request (all its threads, from /proc) is measured over
 * the same run: a figure that depends less on the load generator and on what else the machine is doing
 * than requests per second do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export type LoadTool = 'autocannon' | 'wrk';

const hasWrk = () => spawnSync('wrk', ['--version'], { stdio: 'ignore' }).error === undefined;

/**
 * The load generator a bench's `--load` names. By default wrk when it is installed: the tool the serving
 * figures are quoted with, and light enough to leave the second core to the server's other threads (the
 * prediction log's writer), as a client on another machine would; autocannon otherwise, which takes
 * most of a core in the bench's own process.
 */
export function loadToolOf(argv: readonly string[]): LoadTool {
  const at = argv.indexOf('--load');
  if (at < 0) return hasWrk() ? 'wrk' : 'autocannon';
  const tool = argv[at + 1];
  if (tool !== 'autocannon' && tool !== 'wrk') {
    throw new Error(`--load takes autocannon or wrk, got ${tool}`);
  }
  if (tool === 'wrk' && !hasWrk()) {
    throw new Error('--load wrk: wrk is not installed (apt-get install wrk)');
  }
  return tool;
}

export interface LoadOptions {
  readonly tool: LoadTool;
  /** The server's base URL; requests go to `url + path`. */
  readonly url: string;
  readonly path: string;
  /** JSON bodies, one per request in turn. */
  readonly bodies: readonly string[];
  readonly connections: number;
  readonly seconds: number;
  /** The server's process, for its CPU time and resident memory (its child processes' counted with it). */
  readonly pid: number;
}

export interface LoadFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The largest resident memory of the server during the run (MB), its processes added up. */
  readonly peak: number;
  /**
   * The same, counting memory the processes share once (the sum of their proportional set sizes, PSS):
   * what the machine gives the server. The node binary's pages, about 45 MB, are in each process's
   * resident size.
   */
  readonly peakProportional: number;
  /** The largest resident memory of one serving process (MB): a worker of a cluster, or the server itself. */
  readonly peakWorker: number;
  /** Its processes: 1, or a cluster's primary and workers. */
  readonly processes: number;
  /** The server's CPU time (user + system, all threads) per request answered (µs). */
  readonly cpuPerRequestUs: number;
  /** CPU time per request (µs) by thread: the main thread by `main`, the others by their thread id. */
  readonly threads: ReadonlyMap<string, number>;
  /**
   * The load generator's own CPU time per request (µs), user + system: wrk's, which shares the machine's
   * cores with the server. Undefined with autocannon, which runs in the bench's process.
   */
  readonly clientCpuPerRequestUs?: number;
}

function residentMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0; // it ended meanwhile
  }
}

/** A process's proportional set size (MB): its private pages, and its share of those it shares. */
function proportionalMb(pid: number): number {
  try {
    const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    return Number(/^Pss:\s+(\d+) kB/m.exec(rollup)?.[1] ?? 0) / 1024;
  } catch {
    return 0; // it ended meanwhile
  }
}

/** The fields of /proc/.../stat after the command name (which may hold spaces and parentheses). */
function statFields(path: string): string[] {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** `pid` and every process below it (a cluster's workers, gunicorn's). */
function processTree(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      parents.set(Number(entry), Number(statFields(`/proc/${entry}/stat`)[1]));
    } catch {
      // It ended meanwhile.
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const [child, parent] of parents) if (parent === tree[i]) tree.push(child);
  }
  return tree;
}

/**
 * CPU ticks (user + system) of each thread of a process and its children: the root's main thread is
 * `main`, another process's main thread `process <pid>`, any other thread its thread id.
 */
function threadTicks(pid: number): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const member of processTree(pid)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${member}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const fields = statFields(`/proc/${member}/task/${tid}/stat`);
        const name = tid === String(pid) ? 'main' : tid === String(member) ? `process ${member}` : tid;
        ticks.set(name, Number(fields[11]) + Number(fields[12]));
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return ticks;
}

const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Warms the server up (JIT, connections) for 2 s, then measures for `seconds`. */
export async function load(options: LoadOptions): Promise<LoadFigures> {
  await run({ ...options, seconds: 2 });
  let peak = 0;
  let peakWorker = 0;
  let peakProportional = 0;
  const processes = processTree(options.pid);
  const sample = () => {
    const each = processes.map(residentMb);
    peak = Math.max(
      peak,
      each.reduce((sum, mb) => sum + mb, 0),
    );
    peakProportional = Math.max(
      peakProportional,
      processes.reduce((sum, pid) => sum + proportionalMb(pid), 0),
    );
    // The primary of a cluster (the first) serves nothing itself.
    peakWorker = Math.max(peakWorker, ...(each.length > 1 ? each.slice(1) : each));
  };
  const sampler = setInterval(sample, 200);
  const before = threadTicks(options.pid);
  const measured = await run(options);
  const after = threadTicks(options.pid);
  clearInterval(sampler);
  sample();
  const requests = measured.rps * options.seconds;
  const perRequest = (ticks: number) => (ticks / TICKS_PER_SECOND / requests) * 1e6;
  const threads = new Map<string, number>();
  let total = 0;
  for (const [thread, ticks] of after) {
    const used = ticks - (before.get(thread) ?? 0);
    total += used;
    if (used > 0) threads.set(thread, perRequest(used));
  }
  return {
    ...measured,
    peak,
    peakProportional,
    peakWorker,
    processes: processes.length,
    cpuPerRequestUs: perRequest(total),
    threads,
  };
}

type ClientFigures = Pick<LoadFigures, 'rps' | 'p50' | 'p99' | 'errors' | 'clientCpuPerRequestUs'>;

function run(options: LoadOptions): Promise<ClientFigures> {
  return options.tool === 'wrk' ? runWrk(options) : runAutocannon(options);
}

async function runAutocannon(options: LoadOptions): Promise<ClientFigures> {
  let next = 0;
  const result = await autocannon({
    url: `${options.url}${options.path}`,
    method: 'POST',
    connections: options.connections,
    duration: options.seconds,
    headers: { 'content-type': 'application/json' },
    body: options.bodies[0],
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: options.bodies[next++ % options.bodies.length] }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** wrk's script: the bodies from the file named after `--`, one per line, in turn. */
const WRK_SCRIPT = `
local bodies = {}
local next = 0
function init(args)
  for line in io.lines(args[1]) do bodies[#bodies + 1] = line end
end
function request()
  next = next % #bodies + 1
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, bodies[next])
end
function done(summary, latency, requests)
  -- os.clock() is clock(3): the CPU time of the whole wrk process, its threads included.
  io.write(string.format("client CPU seconds: %.4f\\n", os.clock()))
end
`;

/** A wrk duration (`812.00us`, `1.23ms`, `2.00s`) in ms. */
function wrkMs(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text);
  if (!match) return Number.NaN;
  const scale = { us: 1e-3, ms: 1, s: 1e3, m: 6e4 }[match[2] as 'us' | 'ms' | 's' | 'm'];
  return Number(match[1]) * scale;
}

async function runWrk(options: LoadOptions): Promise<ClientFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'onset-wrk-'));
  try {
    writeFileSync(join(dir, 'bodies.txt'), `${options.bodies.join('\n')}\n`);
    writeFileSync(join(dir, 'post.lua'), WRK_SCRIPT);
    const args = [
      '-t1',
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      '--latency',
      '-s',
      join(dir, 'post.lua'),
      `${options.url}${options.path}`,
      '--',
      join(dir, 'bodies.txt'),
    ];
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(out) : reject(new Error(`wrk exited with ${code}: ${out}`)),
      );
    });
    const number = (pattern: RegExp) => Number(pattern.exec(output)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
    const answered = number(/(\d+) requests in /);
    const clientSeconds = /client CPU seconds: ([\d.]+)/.exec(output)?.[1];
    return {
      rps: number(/Requests\/sec:\s+([\d.]+)/),
      ...(clientSeconds !== undefined && answered > 0
        ? { clientCpuPerRequestUs: (Number(clientSeconds) / answered) * 1e6 }
        : {}),
      p50: wrkMs(/^\s+50%\s+(\S+)/m.exec(output)?.[1] ?? ''),
      p99: wrkMs(/^\s+99%\s+(\S+)/m.exec(output)?.[1] ?? ''),
      errors:
        number(/Non-2xx or 3xx responses:\s+(\d+)/) +
        (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
