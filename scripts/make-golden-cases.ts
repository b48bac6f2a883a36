/**
 * Writes the shipped golden cases, golden-cases/generated.csv (see `makeGoldenCases`). A test checks
 * that the committed file is what this script writes.
 *
 *   npm run golden-cases
 */
import { fileURLToPath } from 'node:url';
import { writeKaggleCsv } from '../src/data/generator/generator.js';
import { makeGoldenCases } from '../src/pipelines/builtin/golden-cases.js';

const path = fileURLToPath(new URL('../golden-cases/generated.csv', import.meta.url));
await writeKaggleCsv(path, makeGoldenCases());
process.stdout.write(`wrote ${path}\n`);
