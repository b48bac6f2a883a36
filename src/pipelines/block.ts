import type { ArtifactStore } from '../tracking/artifacts/artifact-store.js';
import type { RegistryStore } from '../tracking/registry-store.js';
import type { TrackingStore } from '../tracking/tracking-store.js';
import type { OutputSummary, PipelineParamValue, PipelineStore, RunLink } from './pipeline-store.js';

/** The stores pipeline runs work with (the platform's composition, `server/open-stores.ts`, opens them). */
export interface PipelineStores {
  readonly tracking: TrackingStore;
  readonly registry: RegistryStore;
  readonly artifacts: ArtifactStore;
  /** Where runs, block runs, logs and schedules are recorded. */
  readonly pipelines: PipelineStore;
}

/**
 * The types values passing between blocks can have, by name. Blocks declare their inputs and output by
 * these names, so a pipeline's wiring is checked when it is defined. The core has only the generic ones;
 * blocks add theirs by declaration merging, without editing the core (the built-in pipelines' types are in
 * `builtin/value-types.ts`):
 *
 * ```ts
 * declare module '../block.js' {
 *   interface PipelineValueTypes {
 *     report: MyReport;
 *   }
 * }
 * ```
 */
export interface PipelineValueTypes {
  /** A sensor's verdict: false skips every block downstream of it. */
  condition: boolean;
  /** For blocks run for their effect. */
  nothing: null;
}

export type ValueType = keyof PipelineValueTypes;

export type BlockKind = 'loader' | 'transformer' | 'trainer' | 'evaluator' | 'registrar' | 'sensor';
export const BLOCK_KINDS: readonly BlockKind[] = [
  'loader',
  'transformer',
  'trainer',
  'evaluator',
  'registrar',
  'sensor',
];

export interface BlockLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** What a block gets besides its inputs. */
export interface BlockContext {
  readonly runId: string;
  readonly pipeline: string;
  readonly block: string;
  /** 1 for the first try, then 2, 3, ... on retries. */
  readonly attempt: number;
  /** The run's parameters, resolved against the pipeline's declarations (defaults filled in). */
  readonly params: Readonly<Record<string, PipelineParamValue>>;
  /** Aborted when the run is cancelled: long work should stop (and `trainInWorker` does). */
  readonly signal: AbortSignal;
  /** Captured per block and attempt in the run's logs. Never log feature values or patient ids. */
  readonly log: BlockLogger;
  /** Reports progress of long work (shown live by the CLI). */
  progress(done: number, total: number, label?: string): void;
  /** Records something this block created elsewhere (a tracking run, a model version). */
  link(kind: RunLink['kind'], target: string): Promise<void>;
  readonly stores: Pick<PipelineStores, 'tracking' | 'registry' | 'artifacts'>;
}

export type InputTypes = Readonly<Record<string, ValueType>>;
export type InputValues<I extends InputTypes> = { readonly [K in keyof I]: PipelineValueTypes[I[K]] };

/**
 * One step of a pipeline: typed inputs wired to upstream blocks by name, one typed output. `retry`
 * re-runs a failed block (not a cancelled one) up to `attempts` times in all, waiting `backoffMs`,
 * then twice that, and so on.
 */
export interface BlockDefinition<I extends InputTypes = InputTypes, O extends ValueType = ValueType> {
  readonly name: string;
  readonly kind: BlockKind;
  readonly description: string;
  readonly inputs: { readonly [K in keyof I]: { readonly from: string; readonly type: I[K] } };
  /** Blocks that must finish first without passing a value. */
  readonly after?: readonly string[];
  readonly output: O;
  readonly retry?: { readonly attempts: number; readonly backoffMs: number };
  run(inputs: InputValues<I>, context: BlockContext): Promise<PipelineValueTypes[O]>;
  /** A short description of the output for the run record (counts, metrics, ids; no patient data). */
  summarize?(output: PipelineValueTypes[O]): OutputSummary;
}

/** Any block, as a pipeline holds them. */
export type AnyBlock = BlockDefinition<InputTypes, ValueType>;

/** Declares a block with its input and output types inferred (and checked against `run`). */
export function defineBlock<I extends InputTypes, O extends ValueType>(
  block: BlockDefinition<I, O>,
): BlockDefinition<I, O> {
  return block;
}

/** The blocks `block` waits for: its inputs' sources and its `after` list. */
export function upstreamOf(block: AnyBlock): string[] {
  return [...new Set([...Object.values(block.inputs).map((input) => input.from), ...(block.after ?? [])])];
}
