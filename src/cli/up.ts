import type { Command } from 'commander';
import { openOnsetStores } from '../tracking/open-stores.js';
import { addStoreOptions, configFrom } from './config-options.js';
import { integerArgument } from './options.js';

export function registerUpCommand(program: Command): void {
  addStoreOptions(
    program
      .command('up')
      .description('start the Onset server: tracking and registry (MLflow-compatible REST API) on one port')
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
      // The HTTP stack loads only for the server command.
      const { buildApp } = await import('../server/app.js');
      const abandoned = stores.abandonedRunsFailed;
      const app = await buildApp({ ...stores, adminToken: config.adminToken, logger: true });
      const address = await app.listen({ port: config.port, host: config.host });
      process.stdout.write(
        [
          `Onset is up on ${address}`,
          `  tracking and registry API  ${address}/api/2.0/mlflow/  (MLFLOW_TRACKING_URI=${address})`,
          `  artifact proxy             ${address}/api/2.0/mlflow-artifacts/artifacts`,
          `  health                     ${address}/health`,
          `  store                      ${config.trackingUri}`,
          `  artifacts                  ${config.artifactUri}`,
          ...(abandoned > 0 ? [`  marked ${abandoned} run(s) left RUNNING by a dead process as FAILED`] : []),
          config.adminToken ? '  registry writes need the admin token (ONSET_ADMIN_TOKEN)' : '',
        ]
          .filter((line) => line !== '')
          .join('\n') + '\n',
      );
      // Graceful shutdown: stop accepting, let in-flight requests finish, close the stores, exit 0.
      const stop = async () => {
        await app.close();
        await stores.close();
        process.exit(0);
      };
      process.once('SIGTERM', () => void stop());
      process.once('SIGINT', () => void stop());
    },
  );
}
