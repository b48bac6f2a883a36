import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OnsetConfig, resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { trainAndPromote } from '../support/registry.js';

const NAME = 'parkinson-disease-prediction';
const data = generateDataset({ rows: 300, seed: 51 });
const record = {
  patient_id: 'P-1',
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][0]!])),
};

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly reason?: string;
}

/** A server on `home` whose log lines (pino's JSON, debug and up) are kept. */
async function start(
  home: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ server: RunningServer; logs: LogLine[]; text: () => string }> {
  const config: OnsetConfig = resolveConfig({ home, port: 0 }, env);
  const raw: string[] = [];
  const server = await startServer(config, {
    pipelines: false,
    logger: { level: 'debug', stream: { write: (line: string) => void raw.push(line) } },
  });
  return {
    server,
    get logs() {
      return raw.map((line) => JSON.parse(line) as LogLine);
    },
    text: () => raw.join(''),
  };
}

const get = async (server: RunningServer, url: string) => {
  const response = await fetch(`${server.address}${url}`);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
const predict = async (server: RunningServer) => {
  const response = await fetch(`${server.address}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(record),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** A home with Production version 2 over an earlier version 1; returns version 2's model file. */
async function homeWithTwoVersions(): Promise<{ home: string; file: string; promote: () => Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), 'onset-unloadable-'));
  const stores = await openOnsetStores(resolveConfig({ home }, {}));
  let artifactUri = '';
  try {
    for (const rounds of [5, 10]) {
      ({ artifactUri } = await trainAndPromote(stores, NAME, data, { n_estimators: rounds, max_depth: 2 }));
    }
  } finally {
    await stores.close();
  }
  return {
    home,
    file: new URL(`${artifactUri}/model/model.json`).pathname,
    // A good version 3, promoted while the server runs.
    promote: async () => {
      const more = await openOnsetStores(resolveConfig({ home }, {}));
      try {
        await trainAndPromote(more, NAME, data, { n_estimators: 15, max_depth: 2 });
      } finally {
        await more.close();
      }
    },
  };
}

const homes: string[] = [];
afterAll(() => {
  for (const home of homes) rmSync(home, { recursive: true, force: true });
});

describe('a Production version that cannot be loaded', () => {
  let home: string;
  let file: string;
  let promote: () => Promise<void>;
  beforeAll(async () => {
    ({ home, file, promote } = await homeWithTwoVersions());
    homes.push(home);
    // Truncated: the artifact no longer matches the sha256 the store wrote beside it.
    const content = readFileSync(file);
    writeFileSync(file, content.subarray(0, content.length >> 1));
  });

  it('is logged at error level with the reason, and /ready, /model and /predict say why (no fallback)', async () => {
    const { server, logs, text } = await start(home);
    try {
      expect(server.live.current()).toBeUndefined();
      const errors = logs.filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(
        /models:\/parkinson-disease-prediction\/Production \(version 2\) cannot be loaded: artifact \S+model\.json changed since it was written.*nothing is served/,
      );
      expect(errors[0]!.reason).toMatch(/changed since it was written/);
      // No absolute file paths (nor any feature value: the record was never sent) in the log.
      expect(text()).not.toContain(home);
      const ready = await get(server, '/ready');
      expect(ready).toMatchObject({ status: 503, body: { status: 'not ready' } });
      expect(ready.body.reason).toMatch(
        /\(version 2\) cannot be loaded: artifact \S+ changed since it was written/,
      );
      const model = await get(server, '/model');
      expect(model.status).toBe(503);
      expect(model.body).toMatchObject({ error_code: 'TEMPORARILY_UNAVAILABLE' });
      expect(model.body.message).toContain(ready.body.reason);
      expect((await predict(server)).status).toBe(503);
      // Checked again at each poll: the same problem is not logged again.
      await server.live.check();
      expect(logs.filter((line) => line.level >= 50)).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('with ONSET_MODEL_FALLBACK=previous serves version 1 and says so, until a good version is promoted', async () => {
    const { server, logs } = await start(home, { ONSET_MODEL_FALLBACK: 'previous' });
    try {
      expect(server.live.current()?.version).toBe('1');
      const errors = logs.filter((line) => line.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]!.msg).toMatch(
        /\(version 2\) cannot be loaded: .*; serving version 1 instead \(a fallback\)/,
      );
      const ready = await get(server, '/ready');
      expect(ready).toMatchObject({
        status: 200,
        body: { status: 'ready', model: { name: NAME, version: '1' }, fallback: { instead_of: '2' } },
      });
      expect((ready.body.fallback as { reason: string }).reason).toMatch(/changed since it was written/);
      const model = await get(server, '/model');
      expect(model).toMatchObject({
        status: 200,
        body: { version: '1', uri: `models:/${NAME}/1`, fallback: { instead_of: '2' } },
      });
      expect(await predict(server)).toMatchObject({ status: 200, body: { model: { version: '1' } } });

      await promote();
      await server.live.check();
      const healed = await get(server, '/ready');
      expect(healed.body).toMatchObject({ status: 'ready', model: { version: '3' } });
      expect(healed.body.fallback).toBeUndefined();
      expect((await get(server, '/model')).body.fallback).toBeUndefined();
    } finally {
      await server.stop();
    }
  });
});

describe('a Production version whose artifact was replaced with its checksum file', () => {
  it('is refused against the checksum recorded at registration, and the earlier version serves as a fallback', async () => {
    const { home, file } = await homeWithTwoVersions();
    homes.push(home);
    // A valid model document, rewritten with a matching sidecar: only the registry's checksum tells.
    const replaced = readFileSync(file, 'utf8').replace(/"n_estimators":\s*10/, '"n_estimators": 11');
    writeFileSync(file, replaced);
    const sha256 = createHash('sha256').update(replaced).digest('hex');
    writeFileSync(`${file}.onset-sha256`, `${sha256}  model.json\n`);
    const { server, logs } = await start(home, { ONSET_MODEL_FALLBACK: 'previous' });
    try {
      const ready = await get(server, '/ready');
      expect(ready.body).toMatchObject({ status: 'ready', model: { version: '1' } });
      expect((ready.body.fallback as { reason: string }).reason).toMatch(/changed since registration/);
      expect(logs.filter((line) => line.level >= 50)[0]?.msg).toMatch(/changed since registration/);
    } finally {
      await server.stop();
    }
  });
});

describe('no Production version yet', () => {
  it('is not an error: /ready says no model is loaded yet, the log says so at debug level', async () => {
    const home = mkdtempSync(join(tmpdir(), 'onset-unloadable-'));
    homes.push(home);
    const { server, logs } = await start(home);
    try {
      expect(logs.filter((line) => line.level >= 40)).toEqual([]);
      expect(logs.some((line) => line.level === 20 && line.msg === 'no model to load yet')).toBe(true);
      expect((await get(server, '/ready')).body).toMatchObject({
        status: 'not ready',
        reason: `no model loaded yet from models:/${NAME}/Production`,
      });
    } finally {
      await server.stop();
    }
  });
});
