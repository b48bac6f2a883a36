/**
 * Assembles the WebAssembly kernels from their text (`*.wat`, with wabt) into the modules the sources
 * import (`*-wasm.ts`, the binary in base64), so that neither running Onset nor bundling it needs an
 * assembler. `npm run build:wasm` writes them; `--check` fails, naming the file, when one is not what
 * its text assembles to (the test suite runs it).
 *
 *   npx tsx scripts/build-wasm.ts [--check]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Each kernel: its text, the module written from it, and the constant that module exports. */
export const KERNELS = [
  {
    text: 'src/ml/oblivious/oblivious-kernel.wat',
    module: 'src/ml/oblivious/oblivious-kernel-wasm.ts',
    constant: 'OBLIVIOUS_KERNEL_WASM',
  },
  {
    text: 'src/ml/gbdt/grow-kernel.wat',
    module: 'src/ml/gbdt/grow-kernel-wasm.ts',
    constant: 'GROW_KERNEL_WASM',
  },
] as const;

/** The module's source for a kernel's text. */
export async function assemble(kernel: (typeof KERNELS)[number]): Promise<string> {
  const tools = await wabt();
  const text = readFileSync(`${ROOT}/${kernel.text}`, 'utf8');
  const parsed = tools.parseWat(kernel.text, text, { bulk_memory: true, simd: true });
  parsed.validate();
  const { buffer } = parsed.toBinary({});
  parsed.destroy();
  return `// Written by scripts/build-wasm.ts from ${kernel.text.split('/').pop()}: edit that, then run npm run build:wasm.\n/** The assembled module, base64. */\nexport const ${kernel.constant} =\n  '${Buffer.from(buffer).toString('base64')}';\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const check = process.argv.includes('--check');
  for (const kernel of KERNELS) {
    const source = await assemble(kernel);
    const path = `${ROOT}/${kernel.module}`;
    if (!check) writeFileSync(path, source);
    else if (readFileSync(path, 'utf8') !== source) {
      process.stderr.write(
        `${kernel.module} is not what ${kernel.text} assembles to: run npm run build:wasm\n`,
      );
      process.exitCode = 1;
    }
  }
}
