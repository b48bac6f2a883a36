/**
 * `onset up`'s server (`startServer` with pipelines) on an existing home, with or without the web UI, for
 * benchmarks that compare the two in separate processes:
 *
 *   tsx bench/support/up-process.ts HOME on|off
 *
 * Prints `listening on URL` once it serves; stops on SIGTERM.
 */
import { resolveConfig } from '../../src/config.js';
import { startServer } from '../../src/server/server.js';

const [home, ui] = process.argv.slice(2);
if (!home || (ui !== 'on' && ui !== 'off')) {
  console.error('usage: tsx bench/support/up-process.ts HOME on|off');
  process.exit(2);
}
const server = await startServer(resolveConfig({ home, port: 0 }), {
  pipelines: true,
  ui: ui === 'on',
  logger: false,
});
console.log(`listening on ${server.address}`);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
