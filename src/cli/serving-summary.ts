import { formatDuration, type OnsetConfig } from '../config.js';
import type { RunningServer } from '../server/server.js';
import { describeProblem } from '../serving/live-model.js';
import { describeServedModel, servedModelFacts } from './model-summary.js';
import { displayPath } from './stores.js';

/** The start-up text's lines about what a server predicts with and what it records. */
export interface ServingSummary {
  readonly [line: string]: string;
  readonly model: string;
  readonly predictionLog: string;
}

/**
 * What `server` serves and whether its predictions are logged (`logging`: by default, whether it has a
 * writer; a cluster's platform has none, its workers write).
 */
export function servingSummary(
  server: RunningServer,
  config: OnsetConfig,
  logging: boolean = server.predictionLog.writer !== undefined,
): ServingSummary {
  const model = server.live.current();
  const problem = server.live.problem();
  const trouble = problem ? describeProblem(config.modelUri, problem) : undefined;
  return {
    model: model
      ? `${describeServedModel(servedModelFacts(model))}${trouble ? `, a fallback: ${trouble}` : ''}`
      : (trouble ?? `waiting for ${config.modelUri}`),
    predictionLog: logging
      ? describePredictionLog(server, config)
      : 'off (ONSET_PREDICTION_LOG=off); POST /feedback labels what others logged',
  };
}

/** Where logged predictions go: how patient ids are kept and for how long predictions are. */
function describePredictionLog(server: RunningServer, config: OnsetConfig): string {
  const secret = server.predictionLog.secret;
  const keys =
    secret?.source === 'setting'
      ? 'patient ids kept as HMAC keys (ONSET_LOG_SECRET)'
      : `patient ids kept as HMAC keys (secret ${secret?.source === 'new' ? 'made and kept' : 'kept'} in ${displayPath(secret?.path ?? config.home)})`;
  const retention = server.predictionLog.retention?.limited
    ? `; kept ${[
        config.predictionLogMaxAgeMs === undefined ? '' : formatDuration(config.predictionLogMaxAgeMs),
        config.predictionLogMaxRows === undefined ? '' : `at most ${config.predictionLogMaxRows} rows`,
      ]
        .filter((part) => part !== '')
        .join(', ')}`
    : '';
  return `on, ${keys}${retention}; POST /feedback records the ground truth`;
}
