/**
 * Migration 0004 of the monitoring tables on a log that already holds predictions (see the
 * `tracking-store.*.test.ts` runners): the patients logged before it are found after it.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { newPredictionId } from '../../src/monitoring/prediction-log/prediction-id.js';
import { MONITORING_MIGRATIONS } from '../../src/monitoring/prediction-log/sql/migrations.js';
import { openPredictionLogStore } from '../../src/monitoring/prediction-log/sql/sql-prediction-log-store.js';
import { openDatabase } from '../../src/store/database-uri.js';
import { migrate } from '../../src/store/migrations.js';

const T0 = Date.UTC(2026, 0, 1);

export function describePatientFilterMigration(name: string, freshUri: () => Promise<string>): void {
  describe(`prediction log migration 0004 (patient filters): ${name}`, () => {
    it("finds the patients logged before it, and drops the patient index's column", async () => {
      const uri = await freshUri();
      const before = openDatabase(uri);
      const { '0004_patient_filters': _, ...upTo0003 } = MONITORING_MIGRATIONS.migrations;
      await migrate(before, { ...MONITORING_MIGRATIONS, migrations: upTo0003 });
      await sql`INSERT INTO prediction_models (model_key, uri) VALUES ('k', 'models:/m/1')`.execute(
        before.db,
      );
      const key = 'f'.repeat(64);
      const ids = [1, 2, 3, 4].map((second) => newPredictionId(T0 + second * 1_000));
      const rows = ids.map((id, i) => ({ id, key: i % 2 === 0 ? key : null, at: T0 + (i + 1) * 1_000 }));
      for (const row of rows) {
        await sql`INSERT INTO prediction_log (prediction_id, timestamp, model_id, source, patient_key,
            patient_key_head, probability, diagnosis, latency_ms)
          VALUES (${row.id}, ${row.at}, 1, 'http', ${row.key},
            ${row.key === null ? null : Number.parseInt(row.key.slice(0, 13), 16)}, 0.5, 1, 0.1)`.execute(
          before.db,
        );
      }
      await before.close();

      const after = openDatabase(uri);
      const log = await openPredictionLogStore(after);
      expect((await log.findByPatientKey(key)).items.map((p) => p.predictionId)).toEqual([ids[2], ids[0]]);
      const feedback = await log.recordFeedback([{ target: { patientKey: key }, diagnosis: 0 }]);
      expect(feedback.ok && feedback.outcomes.map((o) => o.predictionId)).toEqual([ids[2]]);
      const tables = await after.db.introspection.getTables();
      const columns = tables.find((table) => table.name === 'prediction_log')!.columns.map((c) => c.name);
      expect(columns).toContain('patient_key');
      expect(columns).not.toContain('patient_key_head');
      expect((await log.listPredictions({})).items).toHaveLength(4);
      await after.close();
    });
  });
}
