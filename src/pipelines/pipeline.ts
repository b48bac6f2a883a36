import { invalidParameter } from '../errors.js';
import {
  type AnyBlock,
  BLOCK_KINDS,
  type BlockDefinition,
  type InputTypes,
  upstreamOf,
  type ValueType,
} from './block.js';
import type { PipelineParamValue } from './pipeline-store.js';

/** A declared pipeline parameter: its type, default and what it means. */
export type ParamSpec =
  | {
      readonly type: 'string';
      readonly default: string;
      readonly description: string;
      readonly choices?: readonly string[];
      /** What is wrong with a value, when something is (for strings with a syntax of their own). */
      readonly check?: (value: string) => string | undefined;
    }
  | {
      readonly type: 'integer' | 'number';
      readonly default: number;
      readonly description: string;
      readonly min?: number;
      readonly max?: number;
    }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description: string };

export interface PipelineDefinition {
  readonly name: string;
  readonly description: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  readonly blocks: readonly AnyBlock[];
  /** Blocks run at once at most (default 2: this machine's cores; trainers use worker threads). */
  readonly concurrency?: number;
}

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const PARAM_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Checks a pipeline definition and returns it: names, parameter declarations, that every input comes
 * from a block of the pipeline with the declared type, and that the wiring has no cycle. Every problem
 * is reported at once, each naming the block and input.
 */
export function definePipeline(definition: {
  readonly name: string;
  readonly description: string;
  readonly params?: Readonly<Record<string, ParamSpec>>;
  // Each block keeps its own input and output types; the wiring is checked below.
  // biome-ignore lint/suspicious/noExplicitAny: a heterogeneous list of typed blocks
  readonly blocks: readonly BlockDefinition<any, ValueType>[];
  readonly concurrency?: number;
}): PipelineDefinition {
  const problems: string[] = [];
  const where = `Pipeline "${definition.name}"`;
  if (!NAME.test(definition.name)) {
    problems.push(
      'its name must be lower-case letters, digits and dashes, starting with a letter (at most 63)',
    );
  }
  const params = definition.params ?? {};
  for (const [name, spec] of Object.entries(params)) {
    if (!PARAM_NAME.test(name))
      problems.push(`parameter "${name}": names are lower-case letters, digits and _`);
    const problem = checkParamValue(spec, spec.default);
    if (problem) problems.push(`parameter "${name}" has an invalid default: ${problem}`);
  }
  if (
    definition.concurrency !== undefined &&
    !(Number.isInteger(definition.concurrency) && definition.concurrency >= 1)
  ) {
    problems.push(`concurrency must be a positive integer, got ${definition.concurrency}`);
  }
  const blocks = definition.blocks as readonly AnyBlock[];
  if (blocks.length === 0) problems.push('it has no blocks');
  const byName = new Map<string, AnyBlock>();
  for (const block of blocks) {
    if (!NAME.test(block.name))
      problems.push(`block "${block.name}": names are lower-case letters, digits and dashes`);
    if (byName.has(block.name)) problems.push(`two blocks are named "${block.name}"`);
    if (!BLOCK_KINDS.includes(block.kind)) {
      problems.push(`block "${block.name}" has kind "${block.kind}"; kinds are ${BLOCK_KINDS.join(', ')}`);
    }
    if (
      block.retry &&
      !(Number.isInteger(block.retry.attempts) && block.retry.attempts >= 1 && block.retry.backoffMs >= 0)
    ) {
      problems.push(`block "${block.name}": retry needs attempts >= 1 and backoffMs >= 0`);
    }
    byName.set(block.name, block);
  }
  for (const block of blocks) {
    for (const [input, { from, type }] of Object.entries(block.inputs as InputTypesOf)) {
      const upstream = byName.get(from);
      if (!upstream) {
        problems.push(
          `block "${block.name}" takes input "${input}" from "${from}", which is not a block of this pipeline`,
        );
      } else if (upstream.output !== type) {
        problems.push(
          `block "${block.name}" expects input "${input}" of type ${type}, but "${from}" outputs ${upstream.output}`,
        );
      }
    }
    for (const name of block.after ?? []) {
      if (!byName.has(name))
        problems.push(`block "${block.name}" runs after "${name}", which is not a block of this pipeline`);
    }
  }
  if (problems.length === 0) {
    const cycle = findCycle(blocks);
    if (cycle) problems.push(`its blocks form a cycle: ${cycle.join(' -> ')}`);
  }
  if (problems.length > 0) {
    throw invalidParameter(`${where} is invalid:\n  - ${problems.join('\n  - ')}`, { problems });
  }
  return {
    name: definition.name,
    description: definition.description,
    params,
    blocks,
    ...(definition.concurrency === undefined ? {} : { concurrency: definition.concurrency }),
  };
}

type InputTypesOf = Record<string, { from: string; type: InputTypes[string] }>;

/** A cycle as block names (first repeated at the end), or undefined. */
function findCycle(blocks: readonly AnyBlock[]): string[] | undefined {
  const byName = new Map(blocks.map((block) => [block.name, block]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    for (const upstream of upstreamOf(byName.get(name)!)) {
      const cycle = visit(upstream);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const block of blocks) {
    const cycle = visit(block.name);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}

/** Block names in an order where every block comes after its upstream blocks (ties in definition order). */
export function executionOrder(pipeline: PipelineDefinition): string[] {
  const remaining = new Map(pipeline.blocks.map((block) => [block.name, new Set(upstreamOf(block))]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = [...remaining.entries()].find(([, upstream]) =>
      [...upstream].every((name) => order.includes(name)),
    );
    if (!ready) throw invalidParameter(`Pipeline "${pipeline.name}" has a cycle`);
    order.push(ready[0]);
    remaining.delete(ready[0]);
  }
  return order;
}

function checkParamValue(spec: ParamSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return `expected a string, got ${JSON.stringify(value)}`;
      if (spec.choices && !spec.choices.includes(value)) {
        return `"${value}" is not one of ${spec.choices.join(', ')}`;
      }
      return spec.check?.(value);
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected true or false, got ${JSON.stringify(value)}`;
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return `expected a number, got ${JSON.stringify(value)}`;
      if (spec.type === 'integer' && !Number.isInteger(value)) return `expected an integer, got ${value}`;
      if (spec.min !== undefined && value < spec.min) return `${value} is below the minimum ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `${value} is above the maximum ${spec.max}`;
      return undefined;
    }
  }
}

function coerce(spec: ParamSpec, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  if (spec.type === 'integer' || spec.type === 'number') {
    const value = Number(raw);
    // Not a number: kept as the text given, so the error shows it.
    return raw.trim() === '' || Number.isNaN(value) ? raw : value;
  }
  if (spec.type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

/**
 * The run's parameters: the declared defaults overridden by `given` (strings from `--param k=v` are
 * converted to the declared type). Unknown names and invalid values are errors naming the parameter and
 * what it accepts.
 */
export function resolveParams(
  pipeline: PipelineDefinition,
  given: Readonly<Record<string, unknown>>,
): Record<string, PipelineParamValue> {
  const problems: string[] = [];
  const resolved: Record<string, PipelineParamValue> = {};
  for (const [name, spec] of Object.entries(pipeline.params)) resolved[name] = spec.default;
  for (const [name, raw] of Object.entries(given)) {
    const spec = pipeline.params[name];
    if (!spec) {
      const known = Object.keys(pipeline.params);
      problems.push(
        `unknown parameter "${name}"; ${known.length ? `known: ${known.join(', ')}` : 'it takes none'}`,
      );
      continue;
    }
    const value = coerce(spec, raw);
    const problem = checkParamValue(spec, value);
    if (problem) problems.push(`parameter "${name}": ${problem}`);
    else resolved[name] = value as PipelineParamValue;
  }
  if (problems.length > 0) {
    throw invalidParameter(`Pipeline "${pipeline.name}": ${problems.join('; ')}`, { problems });
  }
  return resolved;
}
