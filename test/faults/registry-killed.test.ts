/**
 * Fault: the processes changing the model registry killed with SIGKILL in the middle of a storm of stage
 * transitions, alias moves and version creations and deletions (two processes on one model at once, see
 * fixtures/transition-storm.ts), on SQLite and on PostgreSQL. Afterwards the registry must be consistent:
 * every change a process saw acknowledged is there; at most one version is in Production and one in
 * Staging (every transition to them archives the others); each version's stage history is an unbroken
 * chain ending at its current stage; aliases name existing versions; and the store takes new changes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Stores } from '../../src/server/open-stores.js';
import type { ModelVersion } from '../../src/tracking/entities.js';
import { type Child, startScript, waitFor } from '../support/child-process.js';
import { scratchDatabases } from '../support/postgres.js';

const STORM = fileURLToPath(new URL('./fixtures/transition-storm.ts', import.meta.url));
const MODEL = 'storm';
const dir = mkdtempSync(join(tmpdir(), 'onset-registry-killed-'));
const postgresUrl = inject('postgresUrl');
const postgresProblem = inject('postgresProblem');
const databases = scratchDatabases(postgresUrl, 'onset_storm');

if (!postgresUrl) console.warn(`Skipping the registry fault test on PostgreSQL: ${postgresProblem}`);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (postgresUrl) await databases.dropAll();
});

const BACKENDS = [
  { name: 'SQLite', skip: false, uri: async () => join(dir, `${randomBytes(4).toString('hex')}.db`) },
  {
    name: 'PostgreSQL',
    skip: !postgresUrl,
    uri: () => databases.create(),
  },
] as const;

/** One acknowledged change, parsed from a storm line. */
interface Ack {
  readonly label: string;
  readonly i: number;
  readonly kind: 'transition' | 'alias' | 'create' | 'delete';
  readonly version: string;
  readonly stage?: string;
}

function acks(child: Child): Ack[] {
  return [...child.stdout().matchAll(/^ack (\w+) (\d+) (\w+) (\d+)(?: (\w+))?$/gm)].map((match) => ({
    label: match[1]!,
    i: Number(match[2]),
    kind: match[3] as Ack['kind'],
    version: match[4]!,
    ...(match[5] ? { stage: match[5] } : {}),
  }));
}

async function allVersions(stores: Stores): Promise<ModelVersion[]> {
  const versions: ModelVersion[] = [];
  let pageToken: string | undefined;
  do {
    const page = await stores.registry.searchModelVersions({ filter: `name = '${MODEL}'`, pageToken });
    versions.push(...page.items);
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  return versions;
}

describe('SIGKILL during a storm of registry changes', () => {
  for (const backend of BACKENDS) {
    it.skipIf(backend.skip)(
      `${backend.name}: leaves every acknowledged change, one version per stage, unbroken stage histories and aliases on existing versions`,
      async () => {
        const uri = await backend.uri();
        const setup = await openStore(uri, { artifactRoot: 'file:///tmp/onset-storm' });
        await setup.registry.createRegisteredModel({ name: MODEL });
        for (let i = 1; i <= 6; i++) {
          await setup.registry.createModelVersion({
            name: MODEL,
            source: `v${i}`,
            storageLocation: `v${i}`,
            files: [{ path: '', size: 1, sha256: 'a'.repeat(64) }],
          });
        }
        await setup.close();

        const storms = ['a', 'b'].map((label, i) => startScript(STORM, [uri, label, String(11 + i)]));
        for (const storm of storms) {
          await waitFor(() => acks(storm).length >= 600, 25_000, '150 acknowledged changes', storm);
        }
        // Both at once, each in the middle of whatever change it was making.
        const exits = await Promise.all(storms.map((storm) => storm.kill()));
        for (const exit of exits) expect(exit.signal).toBe('SIGKILL');
        const acknowledged = storms.flatMap(acks);

        if (backend.name === 'SQLite') {
          const raw = new Database(uri);
          expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
          raw.close();
        }
        const stores = await openStore(uri, { artifactRoot: 'file:///tmp/onset-storm' });
        try {
          const versions = await allVersions(stores);
          const byNumber = new Map(versions.map((version) => [version.version, version]));
          for (const stage of ['Production', 'Staging']) {
            expect(versions.filter((version) => version.currentStage === stage).length).toBeLessThanOrEqual(
              1,
            );
          }

          // Every acknowledged transition is in the history, as it was made; one to the stage the version
          // was already in moves nothing and records nothing (the unbroken chains below show none is lost).
          const history = await stores.registry.getStageHistory(MODEL);
          const reasons = new Map(history.map((entry) => [entry.reason, entry]));
          const transitions = acknowledged.filter((ack) => ack.kind === 'transition');
          expect(transitions.length).toBeGreaterThan(200);
          let recorded = 0;
          for (const ack of transitions) {
            const entry = reasons.get(`${ack.label}#${ack.i}`);
            if (entry === undefined) continue;
            recorded++;
            expect(entry).toMatchObject({ version: ack.version, toStage: ack.stage, user: ack.label });
            expect(entry.fromStage).not.toBe(entry.toStage);
          }
          expect(recorded).toBeGreaterThan(transitions.length / 2);
          // Each of versions 1-6 went from stage to stage without a gap, to where it is now.
          for (let number = 1; number <= 6; number++) {
            const version = String(number);
            const chain = history.filter((entry) => entry.version === version);
            let stage = 'None';
            for (const entry of chain) {
              expect(entry.fromStage, `version ${version}: ${entry.reason}`).toBe(stage);
              stage = entry.toStage;
            }
            expect(byNumber.get(version)?.currentStage).toBe(stage);
          }

          // Versions created and deleted as acknowledged. A process killed after its last acknowledged
          // creation may have deleted its previous version without saying so: that one may be either way.
          const deleted = new Set(
            acknowledged.filter((ack) => ack.kind === 'delete').map((ack) => ack.version),
          );
          const unsure = new Set<string>();
          for (const storm of storms) {
            const created = acks(storm).filter((ack) => ack.kind === 'create');
            if (acks(storm).at(-1)?.kind === 'create' && created.length >= 2)
              unsure.add(created.at(-2)!.version);
          }
          for (const ack of acknowledged) {
            if (ack.kind === 'create' && !unsure.has(ack.version)) {
              expect(byNumber.has(ack.version), `version ${ack.version}`).toBe(!deleted.has(ack.version));
            }
            if (ack.kind === 'delete') expect(byNumber.has(ack.version)).toBe(false);
          }
          // The champion is the Production version (or absent with none there), whatever was killed when.
          const production = versions.find((version) => version.currentStage === 'Production');
          if (production) {
            expect((await stores.registry.getModelVersionByAlias(MODEL, 'champion')).version).toBe(
              production.version,
            );
          } else {
            await expect(stores.registry.getModelVersionByAlias(MODEL, 'champion')).rejects.toThrow(
              /not found/,
            );
          }
          for (const alias of ['stable', 'a-latest', 'b-latest']) {
            const version = await stores.registry.getModelVersionByAlias(MODEL, alias);
            expect(byNumber.has(version.version)).toBe(true);
          }
          for (const version of versions) {
            for (const alias of version.aliases) {
              expect((await stores.registry.getModelVersionByAlias(MODEL, alias)).version).toBe(
                version.version,
              );
            }
          }

          // The registry takes new changes.
          const promoted = await stores.registry.transitionModelVersionStage({
            name: MODEL,
            version: '1',
            stage: 'Production',
            archiveExistingVersions: true,
          });
          expect(promoted.currentStage).toBe('Production');
          expect(
            (await stores.registry.getLatestVersions(MODEL, ['Production'])).map((v) => v.version),
          ).toEqual(['1']);
        } finally {
          await stores.close();
        }
      },
      50_000,
    );
  }
});
