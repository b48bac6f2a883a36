import type {
  Experiment,
  Metric,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  StageTransition,
  Tag,
} from '../entities.js';

/**
 * Onset entities in MLflow's REST JSON shapes (snake_case, ids as strings, timestamps in ms). NaN and
 * infinite metric values are written as the strings "NaN", "Infinity" and "-Infinity", as protobuf's JSON
 * mapping does, since JSON has no such numbers.
 */

export function metricValueJson(value: number): number | string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

export function tagsJson(tags: readonly Tag[]) {
  return tags.map((tag) => ({ key: tag.key, value: tag.value }));
}

export function experimentJson(experiment: Experiment) {
  return {
    experiment_id: experiment.experimentId,
    name: experiment.name,
    artifact_location: experiment.artifactLocation,
    lifecycle_stage: experiment.lifecycleStage,
    last_update_time: experiment.lastUpdateTime,
    creation_time: experiment.creationTime,
    tags: tagsJson(experiment.tags),
  };
}

export function runInfoJson(info: RunInfo) {
  return {
    run_id: info.runId,
    run_uuid: info.runId,
    run_name: info.runName,
    experiment_id: info.experimentId,
    user_id: info.userId,
    status: info.status,
    start_time: info.startTime,
    ...(info.endTime === null ? {} : { end_time: info.endTime }),
    artifact_uri: info.artifactUri,
    lifecycle_stage: info.lifecycleStage,
  };
}

export function metricJson(metric: Metric) {
  return {
    key: metric.key,
    value: metricValueJson(metric.value),
    timestamp: metric.timestamp,
    step: metric.step,
  };
}

export function runJson(run: Run) {
  return {
    info: runInfoJson(run.info),
    data: {
      metrics: run.data.metrics.map(metricJson),
      params: run.data.params.map((param) => ({ key: param.key, value: param.value })),
      tags: tagsJson(run.data.tags),
    },
  };
}

export function modelVersionJson(version: ModelVersion) {
  return {
    name: version.name,
    version: version.version,
    creation_timestamp: version.creationTimestamp,
    last_updated_timestamp: version.lastUpdatedTimestamp,
    user_id: version.userId,
    current_stage: version.currentStage,
    description: version.description,
    source: version.source,
    ...(version.runId === null ? {} : { run_id: version.runId }),
    status: version.status,
    tags: tagsJson(version.tags),
    aliases: [...version.aliases],
    // Onset's additions: the artifact checksum and the run's key metrics at registration.
    checksum: version.checksum,
    metrics: version.metrics,
  };
}

export function registeredModelJson(model: RegisteredModel) {
  return {
    name: model.name,
    creation_timestamp: model.creationTimestamp,
    last_updated_timestamp: model.lastUpdatedTimestamp,
    description: model.description,
    latest_versions: model.latestVersions.map(modelVersionJson),
    tags: tagsJson(model.tags),
    aliases: model.aliases.map((alias) => ({ alias: alias.alias, version: alias.version })),
  };
}

export function transitionJson(transition: StageTransition) {
  return {
    name: transition.name,
    version: transition.version,
    from_stage: transition.fromStage,
    to_stage: transition.toStage,
    timestamp: transition.timestamp,
    user_id: transition.user,
    comment: transition.reason,
  };
}
