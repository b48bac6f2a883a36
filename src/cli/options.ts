import { availableParallelism } from 'node:os';
import { InvalidArgumentError, Option } from 'commander';
import { isOnsetError } from '../errors.js';
import {
  DEFAULT_THRESHOLD_POLICY,
  parseThresholdPolicy,
  THRESHOLD_POLICY_SYNTAX,
} from '../ml/decision/threshold-policy.js';

/** Options and argument parsers shared by CLI commands. */

/**
 * A command used wrongly, found before any work is done: a bad argument, option or parameter value.
 * It exits 2, as commander's own usage errors do (unknown options, missing arguments).
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Runs `check`, turning an OnsetError it throws (a value the user gave is not allowed) into a UsageError. */
export function asUsage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (isOnsetError(error)) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

export function integerArgument(text: string): number {
  if (!/^[+-]?\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected an integer, got "${text}"`);
  return Number(text);
}

/** A TCP port to listen on: 0 (any free one) to 65535. */
export function portArgument(text: string): number {
  const port = integerArgument(text);
  if (port < 0 || port > 65_535)
    throw new InvalidArgumentError(`expected a port from 0 to 65535, got "${text}"`);
  return port;
}

/** `on` or `off` (also true/false, 1/0), as a boolean. */
export function onOffArgument(text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  throw new InvalidArgumentError(`expected on or off, got "${text}"`);
}

export function positiveIntegerArgument(text: string): number {
  if (!/^\+?\d+$/.test(text.trim()) || Number(text) < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got "${text}"`);
  }
  return Number(text);
}

export function foldsArgument(text: string): number {
  if (!/^\+?\d+$/.test(text.trim()) || Number(text) < 2) {
    throw new InvalidArgumentError(`expected a number of folds of at least 2, got "${text}"`);
  }
  return Number(text);
}

export function probabilityArgument(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError(`expected a number from 0 to 1, got "${text}"`);
  }
  return value;
}

/** Parses `key=value` strings (from repeated `--param` flags) into an object; values stay strings. */
export function parseParamAssignments(assignments: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at <= 0) throw new UsageError(`--param takes name=value, got "${assignment}"`);
    out[assignment.slice(0, at).trim()] = assignment.slice(at + 1).trim();
  }
  return out;
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function policyOption(): Option {
  return new Option(
    '--policy <policy>',
    'rows with errors: fail refuses the file, skip leaves them out and reports them',
  )
    .choices(['fail', 'skip'])
    .default('fail');
}

/**
 * `--threads`: the threads a batch command uses, this one included (1 = this one only); `auto` (the
 * default) is the cores available.
 */
export function threadsOption(): Option {
  return new Option(
    '--threads <n>',
    'threads to use, this one included: this one reads and writes while the others score (1 = all on this one; default auto: the cores available)',
  )
    .argParser(threadsArgument)
    .default(availableParallelism(), 'auto');
}

function threadsArgument(text: string): number {
  if (text.trim().toLowerCase() === 'auto') return availableParallelism();
  if (!/^\+?\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 64) {
    throw new InvalidArgumentError(`expected a number of threads from 1 to 64, or auto, got "${text}"`);
  }
  return Number(text);
}

/** `--threshold p` of the commands that score: the model's own threshold unless one is named. */
export function thresholdOption(): Option {
  return new Option(
    '--threshold <p>',
    "decision threshold: a row is predicted positive when probability >= p (default: the model's own, 0.5 for a model without one)",
  ).argParser(probabilityArgument);
}

/** `--threshold <policy>` of the commands that train: how the model's decision threshold is chosen. */
export function thresholdPolicyOption(): Option {
  return new Option(
    '--threshold <policy>',
    `how the decision threshold is chosen, on the calibrated out-of-fold probabilities: ${THRESHOLD_POLICY_SYNTAX} (a minimum sensitivity at the best specificity; a cost ratio of a missed diagnosis to a false one)`,
  )
    .argParser((text: string) => {
      try {
        return parseThresholdPolicy(text, '--threshold');
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    })
    .default(DEFAULT_THRESHOLD_POLICY, '0.5');
}
