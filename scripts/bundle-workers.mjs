/**
 * Bundles the modules that start a process or thread of the server into one file each, in place, as the
 * last step of `npm run build` (tsc compiles them first):
 *
 * - `dist/cli/serve-worker.js`, which each of `onset up`'s and `onset serve`'s worker processes loads;
 * - `dist/monitoring/prediction-log/log-worker.js`, the prediction log's writing thread of the primary.
 *
 * Unbundled, a worker loads about 2,000 files (TypeBox alone is 373 modules), each resolved, read and
 * compiled on every start. Bundled, one file: a worker answers /ready about 0.5 s sooner on this 2-core
 * machine and holds about 17 MB less. Whitespace and comments are left out: V8 keeps a module's source
 * text in memory for as long as the module lives, and a single non-Latin-1 character in a comment (a
 * dependency's "—") makes it keep the whole text at two bytes a character. The 5.7 MB worker source took
 * 11.5 MB of each worker's heap, where the 3.9 MB one-byte text without them takes 3.9 (measured: 7 MB
 * less resident memory a worker, and the writing thread's heap 3.4 MB smaller). Names are kept, so a
 * stack trace still names its functions; only its line and column point into one long line.
 *
 * Packages that read files next to their own code at run time (swagger-ui's pages, pino's transport
 * threads) or are native (better-sqlite3) stay external: loaded from node_modules as before. Only the
 * built CLI runs the bundles; from the sources (tsx) the same modules load from `src/` as before.
 *
 *   node scripts/bundle-workers.mjs
 */
import { build } from 'esbuild';

const ENTRIES = ['dist/cli/serve-worker.js', 'dist/monitoring/prediction-log/log-worker.js'];

for (const entry of ENTRIES) {
  await build({
    entryPoints: [entry],
    outfile: entry,
    allowOverwrite: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: [
      'better-sqlite3',
      'pg-native',
      'pino',
      'pino-pretty',
      'thread-stream',
      '@fastify/swagger',
      '@fastify/swagger-ui',
      '@fastify/static',
    ],
    // CommonJS packages in an ES module bundle call require() for Node's built-ins.
    banner: {
      js: "import { createRequire as onsetCreateRequire } from 'node:module';\nconst require = onsetCreateRequire(import.meta.url);",
    },
    minifyWhitespace: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
}
