/**
 * What a served model is, in one line, for `onset up`/`serve` at start-up and `onset send`: a registered
 * version by its name and number; a model file or a run's model (which have neither) by its family, a
 * short fingerprint and when it was trained.
 */
import type { ServedModel } from '../serving/model-source.js';
import { formatTimestamp } from './output.js';

/** The facts about a served model, as the server has them and as `GET /model` answers them. */
export interface ServedModelFacts {
  readonly uri: string;
  readonly name: string | null;
  readonly version: string | null;
  /** The model family (`gbdt`, `logistic`, ...). */
  readonly estimator: string;
  /** sha256 of the model's files. */
  readonly checksum: string | null;
  /** When it was fitted (ISO 8601), null when unknown (an imported model). */
  readonly trainedAt: string | null;
}

/** The facts of a model this process serves. */
export function servedModelFacts(model: ServedModel): ServedModelFacts {
  return {
    uri: model.uri,
    name: model.name,
    version: model.version,
    estimator: model.document.estimator,
    checksum: model.checksum,
    trainedAt: model.document.training.fitted_at,
  };
}

/** The facts in a `GET /model` answer (snake_case, as the API writes them); undefined when it is not one. */
export function factsFromModelAnswer(body: unknown): ServedModelFacts | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const answer = body as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  if (typeof answer.uri !== 'string' || typeof answer.estimator !== 'string') return undefined;
  return {
    uri: answer.uri,
    name: text(answer.name),
    version: text(answer.version),
    estimator: answer.estimator,
    checksum: text(answer.checksum),
    trainedAt: text(answer.trained_at),
  };
}

/** The first 12 hex digits of a sha256, enough to tell models apart at a glance (as git's short hashes). */
export function shortFingerprint(checksum: string | null): string {
  return checksum === null ? 'unknown' : checksum.slice(0, 12);
}

/** `gbdt 3f2a9c1b0d4e`: a model that is not a registered version, in a table cell. */
export function modelTag(facts: ServedModelFacts): string {
  return facts.name !== null && facts.version !== null
    ? `${facts.name} v${facts.version}`
    : `${facts.estimator} ${shortFingerprint(facts.checksum)}`;
}

/**
 * The model in one line: `parkinson-disease-prediction version 2 (gbdt)`, or for a file or a run's model
 * `models/gbdt.json (gbdt, sha256 3f2a9c1b0d4e, trained 2025-03-01 10:22:07 UTC)`.
 */
export function describeServedModel(facts: ServedModelFacts): string {
  if (facts.name !== null && facts.version !== null) {
    return `${facts.name} version ${facts.version} (${facts.estimator})`;
  }
  const trained = facts.trainedAt === null ? null : Date.parse(facts.trainedAt);
  const when =
    trained === null || Number.isNaN(trained)
      ? 'training time unknown (imported)'
      : `trained ${formatTimestamp(trained)} UTC`;
  return `${facts.uri} (${facts.estimator}, sha256 ${shortFingerprint(facts.checksum)}, ${when})`;
}
