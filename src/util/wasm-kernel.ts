/** What Onset uses of WebAssembly (the ES library it compiles against does not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: unknown };
};

/** A kernel's memory, as its module exports it (64 KiB pages). */
export interface KernelMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/** The size of a WebAssembly memory page. */
export const WASM_PAGE = 65_536;

/**
 * A WebAssembly kernel assembled by `scripts/build-wasm.ts` (its binary in base64): compiled once per
 * process, on the first instance; each `instantiate` gives an instance with a memory of its own.
 */
export class WasmKernel<Exports extends { readonly memory: KernelMemory }> {
  #compiled: object | undefined;

  constructor(private readonly base64: string) {}

  instantiate(): Exports {
    this.#compiled ??= new WebAssembly.Module(Buffer.from(this.base64, 'base64'));
    return new WebAssembly.Instance(this.#compiled).exports as Exports;
  }
}

/** Grows `memory` to at least `bytes` (never shrinks it). */
export function growMemoryTo(memory: KernelMemory, bytes: number): void {
  const missing = Math.ceil(bytes / WASM_PAGE) - memory.buffer.byteLength / WASM_PAGE;
  if (missing > 0) memory.grow(missing);
}
