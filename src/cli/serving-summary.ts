import { formatDuration, type OnsetConfig } from '../config.js';
import type { LogSecretSource } from '../monitoring/prediction-log/patient-keys.js';
import type { RunningServer } from '../server/server.js';
import { describeProblem } from '../serving/live-model.js';
import { describeServedModel, servedModelFacts } from './model-summary.js';
import { displayPath } from './stores.js';

/** The start-up text's line about the model `server` serves (or waits for, or serves instead). */
export function describeServing(server: RunningServer, config: OnsetConfig): string {
  const model = server.live.current();
  const problem = server.live.problem();
  const trouble = problem ? describeProblem(config.modelUri, problem) : undefined;
  return model
    ? `${describeServedModel(servedModelFacts(model))}${trouble ? `, a fallback: ${trouble}` : ''}`
    : (trouble ?? `waiting for ${config.modelUri}`);
}

/**
 * Whether predictions are logged (`logging`), how patient ids are kept (`secret`: where the key came
 * from) and for how long predictions are (`retained`: `onset up` deletes old ones).
 */
export function describePredictionLog(
  config: OnsetConfig,
  logging: boolean,
  secret: { readonly source: LogSecretSource; readonly path?: string } | undefined,
  retained: boolean,
): string {
  if (!logging) return 'off (ONSET_PREDICTION_LOG=off); POST /feedback labels what others logged';
  const keys =
    secret?.source === 'setting'
      ? 'patient ids kept as HMAC keys (ONSET_LOG_SECRET)'
      : `patient ids kept as HMAC keys (secret ${secret?.source === 'new' ? 'made and kept' : 'kept'} in ${displayPath(secret?.path ?? config.home)})`;
  const retention = retained
    ? `; kept ${[
        config.predictionLogMaxAgeMs === undefined ? '' : formatDuration(config.predictionLogMaxAgeMs),
        config.predictionLogMaxRows === undefined ? '' : `at most ${config.predictionLogMaxRows} rows`,
      ]
        .filter((part) => part !== '')
        .join(', ')}`
    : '';
  return `on, ${keys}${retention}; POST /feedback records the ground truth`;
}
