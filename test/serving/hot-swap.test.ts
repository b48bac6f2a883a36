import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import type { OnsetStores } from '../../src/server/open-stores.js';
import { startServer } from '../../src/server/server.js';
import { onlyForward, startPredictionClients } from '../support/prediction-clients.js';
import { trainAndPromote } from '../support/registry.js';

const home = mkdtempSync(join(tmpdir(), 'onset-hot-swap-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const NAME = 'parkinson-disease-prediction';
const data = generateDataset({ rows: 300, seed: 31 });
const records = Array.from({ length: 20 }, (_, i) => ({
  patient_id: `P${i}`,
  data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][i]!])),
}));

async function promoteNew(stores: OnsetStores, rounds: number): Promise<string> {
  return (await trainAndPromote(stores, NAME, data, { n_estimators: rounds, max_depth: 2 })).version;
}

const post = (address: string, url: string, body: unknown) =>
  fetch(`${address}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('a running server', () => {
  it('swaps Production twice under concurrent requests without failing one, then stops gracefully', async () => {
    const config = resolveConfig({ home, port: 0 }, {});
    // A first Production version, so the server starts serving it.
    const bootstrap = await startServer(config, { pipelines: false, logger: false });
    await promoteNew(bootstrap.stores, 5);
    await bootstrap.stop();
    const server = await startServer(config, { pipelines: false, logger: false });
    try {
      expect(server.live.current()?.version).toBe('1');
      const clients = startPredictionClients(server.address, records);
      for (const rounds of [10, 20]) {
        await new Promise((resolve) => setTimeout(resolve, 150));
        await promoteNew(server.stores, rounds);
        await server.live.check();
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
      await clients.stop();
      expect(clients.failures).toEqual([]);
      expect(new Set(clients.seen.flat())).toEqual(new Set(['1', '2', '3']));
      // Each client sees versions only move forward: never an old model after a new one.
      expect(onlyForward(clients.seen)).toBe(true);
      const metrics = await (await fetch(`${server.address}/metrics`)).text();
      expect(metrics).toMatch(/^onset_model_reloads_total 2$/m);
      expect(metrics).toMatch(
        new RegExp(`^onset_model_info\\{name="${NAME}",version="3",stage="Production"\\} 1$`, 'm'),
      );

      // In-flight requests (large explained batches) finish after stop() is called; new ones are refused.
      const batch = { records: Array.from({ length: 1000 }, (_, i) => records[i % records.length]) };
      const inFlight = [0, 1, 2].map(() => post(server.address, '/predict/batch?explain=true', batch));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const stopping = server.stop();
      const answers = await Promise.all(inFlight);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(((await answers[0]!.json()) as { valid: number }).valid).toBe(1000);
      await stopping;
      await expect(post(server.address, '/predict', records[0])).rejects.toThrow();
    } finally {
      await server.stop().catch(() => undefined);
    }
  }, 60_000);
});
