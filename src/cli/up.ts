/**
 * `onset up` and `onset serve`: their options. What they do is in `serve-actions.ts`, loaded when one
 * runs, so that the CLI starts without loading the server (and a cluster forks its workers sooner).
 */
import type { Command } from 'commander';
import { addStoreOptions } from './config-options.js';
import { integerArgument, onOffArgument, positiveIntegerArgument } from './options.js';
import type { ServerFlags } from './serve-actions.js';

function serverCommand(command: Command): Command {
  return addStoreOptions(command)
    .option('-p, --port <port>', 'port to listen on (env ONSET_PORT, default 9696)', integerArgument)
    .option('--host <host>', 'address to listen on (env ONSET_HOST, default 127.0.0.1)')
    .option(
      '--allow-unauthenticated',
      'listen beyond loopback even with no ONSET_ADMIN_TOKEN or no ONSET_API_KEY, with a warning (env ONSET_ALLOW_UNAUTHENTICATED)',
    )
    .option(
      '--prediction-log <on|off>',
      'record every prediction in the prediction log, for monitoring and POST /feedback (env ONSET_PREDICTION_LOG, default on)',
      onOffArgument,
    )
    .option(
      '-w, --workers <n>',
      'processes serving the prediction routes on the one port (env ONSET_WORKERS, default: the cores available); 1 serves everything from this process',
      positiveIntegerArgument,
    )
    .option(
      '-m, --model <uri>',
      'the model to serve: models:/NAME/STAGE, models:/NAME@ALIAS, runs:/RUN_ID/model or a file (env ONSET_MODEL_URI, default models:/parkinson-disease-prediction/Production)',
    );
}

export function registerUpCommand(program: Command): void {
  serverCommand(
    program
      .command('up')
      .description(
        'start the whole platform on one port: train a first model if there is none, then serve predictions, metrics, docs, tracking and registry, pipelines and schedules',
      ),
  )
    .option(
      '-d, --data <file>',
      'labelled CSV for the first training (env ONSET_DATA; default: the built-in data)',
    )
    .action(async (options: ServerFlags) => (await import('./serve-actions.js')).up(options));

  serverCommand(
    program
      .command('serve')
      .description(
        'serve predictions only (a stateless replica over the shared stores, for scaling out behind a load balancer)',
      ),
  ).action(async (options: ServerFlags) => (await import('./serve-actions.js')).serve(options));
}
