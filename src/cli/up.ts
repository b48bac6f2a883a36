import type { Command } from 'commander';
import { openOnsetStores } from '../tracking/open-stores.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { integerArgument } from './options.js';

export function registerUpCommand(program: Command): void {
  addStoreOptions(
    program
      .command('up')
      .description(
        'start the Onset server: tracking and registry (MLflow-compatible REST API), pipelines and their schedules, on one port',
      )
      .option('-p, --port <port>', 'port to listen on (env ONSET_PORT, default 9696)', integerArgument)
      .option('--host <host>', 'address to listen on (env ONSET_HOST, default 127.0.0.1)'),
  ).action(
    async (options: {
      port?: number;
      host?: string;
      home?: string;
      trackingUri?: string;
      artifactUri?: string;
    }) => {
      const config = configFrom(options);
      const stores = await openOnsetStores(config);
      // The HTTP stack and the pipelines load only for the server command.
      const [{ buildApp }, { PipelineService }, { PipelineScheduler }] = await Promise.all([
        import('../server/app.js'),
        import('../pipelines/pipeline-service.js'),
        import('../pipelines/scheduler.js'),
      ]);
      const service = new PipelineService({
        stores,
        onFinished: (run) =>
          app.log.info(
            { pipeline: run.pipeline, runId: run.runId, status: run.status },
            'pipeline run ended',
          ),
      });
      const app = await buildApp({
        ...stores,
        adminToken: config.adminToken,
        logger: true,
        pipelines: { service, store: stores.pipelines },
      });
      const scheduler = new PipelineScheduler(stores.pipelines, service, {
        onFire: (event) =>
          event.error
            ? app.log.warn(event, 'a scheduled pipeline could not start')
            : app.log.info(event, 'scheduled pipeline started'),
      });
      const address = await app.listen({ port: config.port, host: config.host });
      scheduler.start();
      const schedules = (await stores.pipelines.listSchedules()).filter(
        (schedule) => schedule.enabled,
      ).length;
      const abandoned = stores.abandonedRunsFailed + stores.abandonedPipelineRunsFailed;
      const lines = [
        `Onset is up on ${address}`,
        `  tracking and registry API  ${address}/api/2.0/mlflow/  (MLFLOW_TRACKING_URI=${address})`,
        `  artifact proxy             ${address}/api/2.0/mlflow-artifacts/artifacts`,
        `  pipelines API              ${address}/api/onset/pipelines  (${schedules} schedule(s) active)`,
        `  health                     ${address}/health`,
        `  store                      ${config.trackingUri}`,
        `  artifacts                  ${config.artifactUri}`,
        ...(abandoned > 0 ? [`  marked ${abandoned} run(s) left RUNNING by a dead process as FAILED`] : []),
        config.adminToken ? '  registry and pipeline changes need the admin token (ONSET_ADMIN_TOKEN)' : '',
      ];
      process.stdout.write(`${lines.filter((line) => line !== '').join('\n')}\n`);
      // Graceful shutdown: stop accepting, let in-flight requests finish, cancel running pipelines (their
      // runs record CANCELLED), close the stores, exit 0.
      const stop = async () => {
        await scheduler.stop();
        await app.close();
        await service.close();
        await stores.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop());
      process.once('SIGINT', () => void stop());
    },
  );
}
