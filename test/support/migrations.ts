import { MONITORING_MIGRATIONS } from '../../src/monitoring/prediction-log/sql/migrations.js';
import { PIPELINE_MIGRATIONS } from '../../src/pipelines/sql/migrations.js';
import { trackingMigrations } from '../../src/tracking/sql/migrations.js';

/** The rows of `onset_tracking_migrations` once a database is up to date: every migration, in order. */
export const TRACKING_MIGRATION_ROWS = Object.keys(
  trackingMigrations({ artifactRoot: 'file:///unused' }).migrations,
).map((name) => ({ name }));

/** The rows of `onset_pipelines_migrations` once a database is up to date. */
export const PIPELINE_MIGRATION_ROWS = Object.keys(PIPELINE_MIGRATIONS.migrations).map((name) => ({ name }));

/** The rows of `onset_monitoring_migrations` once a database is up to date. */
export const MONITORING_MIGRATION_ROWS = Object.keys(MONITORING_MIGRATIONS.migrations).map((name) => ({
  name,
}));
