import type { Matrix } from '../../math/matrix.js';
import { growMemoryTo, type KernelMemory, WasmKernel } from '../../util/wasm-kernel.js';
import type { BinMapper } from './binning.js';
import { GROW_KERNEL_WASM } from './grow-kernel-wasm.js';
import type { RegularizationParams } from './loss.js';

interface KernelExports {
  readonly memory: KernelMemory;
  /** Where the fit's data is in memory (byte offsets), its sizes and regularization. */
  init(
    slots: number,
    wide: number,
    gh: number,
    rows: number,
    scratch: number,
    features: number,
    binStart: number,
    hasMissing: number,
    binList: number,
    result: number,
    cols: number,
    histBytes: number,
    lambda: number,
    alpha: number,
    maxDelta: number,
    minChild: number,
  ): void;
  bin(values: number, firstRow: number, count: number, cuts: number, cutStart: number): void;
  histogram(hist: number, start: number, end: number, count: number): void;
  subtract(parent: number, child: number): void;
  partition(start: number, end: number, feature: number, boundary: number, defaultLeft: number): number;
  bestSplit(hist: number, count: number, nodeG: number, nodeH: number): number;
}

/** The kernel's code (`grow-kernel.wat`), compiled once per process; each fit instantiates it. */
const KERNEL = new WasmKernel<KernelExports>(GROW_KERNEL_WASM);

const align16 = (bytes: number) => (bytes + 15) & ~15;

/** Values binned per call (1 MB of float64). */
const BIN_CHUNK_VALUES = 131_072;

/** The best split of a node over the features searched, as `bestSplit` finds it. */
export interface KernelSplit {
  readonly feature: number;
  /** Rows with bin < `bin` go left. */
  readonly bin: number;
  readonly defaultLeft: boolean;
  readonly gain: number;
  readonly gLeft: number;
  readonly hLeft: number;
}

/**
 * The grower's binning, histograms, split search and partitions for one fit, in WebAssembly
 * (`grow-kernel.wat`): the binned cells, the gradients and the row buffer live in the kernel's memory,
 * and a histogram is named by where it is there. Compiled before its first call, it needs no warm-up,
 * where the same loops in JavaScript ran slowly until the JIT had compiled them: the fit a fresh
 * process waits for (`onset train`) took about 120 ms in JavaScript on the real file's 1,684 training
 * rows and takes about 87 ms here (XGBoost 1.7: about 90 ms), every model the same bit for bit.
 *
 * Histograms freed by `release` are reused; the memory grows when more are held at once. A view of the
 * memory is good until the next histogram is made (growing replaces the buffer): take `rows()` again.
 */
export class GrowKernel {
  readonly #exports: KernelExports;
  readonly #histBytes: number;
  readonly #at: {
    readonly slots: number;
    readonly wide: boolean;
    readonly gh: number;
    readonly rows: number;
    readonly features: number;
    readonly result: number;
  };
  readonly #rowCount: number;
  readonly #cols: number;
  readonly #free: number[] = [];
  #arenaEnd: number;
  #buffer: ArrayBuffer | undefined;
  #rows!: Uint32Array;
  #gh!: Float64Array;
  #features!: Int32Array;
  #result!: Float64Array;
  /** The feature list last written to the kernel's memory (most calls use the same one). */
  #written: Int32Array | undefined;

  /** Bins `x` with `mapper` (the fit's bins) into the kernel's memory. */
  constructor(
    x: Matrix,
    mapper: BinMapper,
    params: RegularizationParams & { readonly min_child_weight: number },
  ) {
    const { rows: rowCount, cols } = x;
    this.#rowCount = rowCount;
    this.#cols = cols;
    const missingSlot = mapper.totalBins;
    this.#histBytes = 16 * (missingSlot + 1);
    // Slots in 16 bits unless a histogram has more.
    const wide = missingSlot >= 0xffff;
    const slots = 0;
    const gh = align16(slots + (wide ? 4 : 2) * rowCount * cols);
    const rows = gh + 16 * rowCount;
    const scratch = rows + 4 * rowCount;
    const features = align16(scratch + 4 * rowCount);
    const binStart = features + 4 * cols;
    const hasMissing = binStart + 4 * (cols + 1);
    const binList = align16(hasMissing + cols);
    const result = align16(binList + 4 * missingSlot);
    const cuts = result + 40;
    const cutStart = cuts + 4 * mapper.cuts.length;
    this.#arenaEnd = align16(cutStart + 4 * (cols + 1));
    this.#at = { slots, wide, gh, rows, features, result };
    this.#exports = KERNEL.instantiate();
    // The values are binned a chunk of rows at a time, from where the histograms go later.
    const values = this.#arenaEnd;
    const chunkRows = Math.max(1, Math.min(rowCount, Math.floor(BIN_CHUNK_VALUES / Math.max(1, cols))));
    growMemoryTo(this.#exports.memory, values + 8 * chunkRows * cols);
    const buffer = this.#exports.memory.buffer;
    new Int32Array(buffer, binStart, cols + 1).set(mapper.binStart);
    new Float32Array(buffer, cuts, mapper.cuts.length).set(mapper.cuts);
    new Int32Array(buffer, cutStart, cols + 1).set(mapper.cutStart);
    this.#exports.init(
      slots,
      wide ? 1 : 0,
      gh,
      rows,
      scratch,
      features,
      binStart,
      hasMissing,
      binList,
      result,
      cols,
      this.#histBytes,
      params.reg_lambda,
      params.reg_alpha,
      params.max_delta_step,
      Math.max(params.min_child_weight, 1e-300),
    );
    const chunk = new Float64Array(buffer, values, chunkRows * cols);
    for (let first = 0; first < rowCount; first += chunkRows) {
      const count = Math.min(chunkRows, rowCount - first);
      chunk.set(x.data.subarray(first * cols, (first + count) * cols));
      this.#exports.bin(values, first, count, cuts, cutStart);
    }
    this.#refresh();
  }

  #refresh(): void {
    const buffer = this.#exports.memory.buffer;
    if (buffer === this.#buffer) return;
    this.#buffer = buffer;
    this.#rows = new Uint32Array(buffer, this.#at.rows, this.#rowCount);
    this.#gh = new Float64Array(buffer, this.#at.gh, 2 * this.#rowCount);
    this.#features = new Int32Array(buffer, this.#at.features, this.#cols);
    this.#result = new Float64Array(buffer, this.#at.result, 5);
    this.#written = undefined;
  }

  /** Each cell's histogram slot (row-major), as binned: good until the next histogram. */
  slots(): Uint16Array | Uint32Array {
    const { buffer } = this.#exports.memory;
    const cells = this.#rowCount * this.#cols;
    return this.#at.wide
      ? new Uint32Array(buffer, this.#at.slots, cells)
      : new Uint16Array(buffer, this.#at.slots, cells);
  }

  /** The row buffer (`rows[start .. end)` of a node): good until the next histogram. */
  rows(): Uint32Array {
    return this.#rows;
  }

  /** Sets each row's gradient and hessian for the next tree. */
  setGradients(grad: Float64Array, hess: Float64Array): void {
    const gh = this.#gh;
    for (let i = 0; i < this.#rowCount; i++) {
      gh[2 * i] = grad[i]!;
      gh[2 * i + 1] = hess[i]!;
    }
  }

  #useFeatures(features: Int32Array): void {
    if (this.#written === features) return;
    this.#features.set(features);
    this.#written = features;
  }

  /** A new histogram of rows `rows()[start .. end)` over `features`; where it is. */
  histogram(start: number, end: number, features: Int32Array): number {
    let hist = this.#free.pop();
    if (hist === undefined) {
      hist = this.#arenaEnd;
      this.#arenaEnd += this.#histBytes;
      growMemoryTo(this.#exports.memory, this.#arenaEnd);
      this.#refresh();
    }
    this.#useFeatures(features);
    this.#exports.histogram(hist, start, end, features.length);
    return hist;
  }

  /** Turns `parent` into parent − child, slot by slot (the larger child's histogram); returns it. */
  subtract(parent: number, child: number): number {
    this.#exports.subtract(parent, child);
    return parent;
  }

  /**
   * Partitions `rows()[start .. end)` by a split, stably: the rows whose slot is below `boundary` (the
   * feature's first slot plus the split's bin; missing values as `defaultLeft` says) first. Returns where
   * the right part begins.
   */
  partition(start: number, end: number, feature: number, boundary: number, defaultLeft: boolean): number {
    return this.#exports.partition(start, end, feature, boundary, defaultLeft ? 1 : 0);
  }

  /** Frees a histogram for reuse. */
  release(hist: number): void {
    this.#free.push(hist);
  }

  /** The best split of the node with histogram `hist` and sums (g, h) over `features`, if any candidate is valid. */
  bestSplit(hist: number, features: Int32Array, g: number, h: number): KernelSplit | undefined {
    this.#useFeatures(features);
    const feature = this.#exports.bestSplit(hist, features.length, g, h);
    if (feature < 0) return undefined;
    const result = this.#result;
    return {
      feature,
      gain: result[0]!,
      gLeft: result[1]!,
      hLeft: result[2]!,
      bin: result[3]!,
      defaultLeft: result[4] === 1,
    };
  }
}
