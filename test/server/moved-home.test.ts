/**
 * A home is a folder that can be moved, copied (a backup) and restored elsewhere: what it stores is
 * relative to its artifact root, so the copy serves the same model, and the original is untouched.
 */
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config.js';
import { generateDataset } from '../../src/data/generator/generator.js';
import { FEATURE_NAMES } from '../../src/data/schema.js';
import { openOnsetStores } from '../../src/server/open-stores.js';
import { startServer } from '../../src/server/server.js';
import { trainAndPromote } from '../support/registry.js';

const MODEL = 'parkinson-disease-prediction';
const base = mkdtempSync(join(tmpdir(), 'onset-moved-home-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const data = generateDataset({ rows: 200, seed: 21 });
const record = { data: Object.fromEntries(FEATURE_NAMES.map((name) => [name, data.columns[name][3]!])) };

async function predictFrom(home: string): Promise<{ probability: number; run: string }> {
  const server = await startServer(resolveConfig({ home, port: 0 }, {}), { pipelines: false, logger: false });
  try {
    const answer = await fetch(`${server.address}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(record),
    });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { probability: number; model: { run_id: string } };
    const run = await server.stores.tracking.getRun(body.model.run_id);
    expect(run.info.artifactUri.startsWith(server.stores.artifacts.rootUri)).toBe(true);
    expect(
      await server.stores.artifacts.exists(
        `${run.info.artifactUri.slice(server.stores.artifacts.rootUri.length + 1)}/model`,
      ),
    ).toBe(true);
    return { probability: body.probability, run: body.model.run_id };
  } finally {
    await server.stop();
  }
}

describe('a home moved or restored elsewhere', () => {
  it('serves the same model from its new place, and from a copy, as it did before', async () => {
    const first = join(base, 'first');
    const stores = await openOnsetStores(resolveConfig({ home: first }, {}));
    try {
      await trainAndPromote(stores, MODEL, data, { n_estimators: 8, max_depth: 3 });
    } finally {
      await stores.close();
    }
    const before = await predictFrom(first);

    const moved = join(base, 'moved', 'elsewhere');
    cpSync(first, join(base, 'backup'), { recursive: true });
    renameSync(first, join(base, 'tmp'));
    cpSync(join(base, 'tmp'), moved, { recursive: true });
    rmSync(join(base, 'tmp'), { recursive: true });
    expect(await predictFrom(moved)).toEqual(before);

    const restored = join(base, 'restored');
    cpSync(join(base, 'backup'), restored, { recursive: true });
    expect(await predictFrom(restored)).toEqual(before);
  }, 60_000);
});
