import { type ResourceLimits, Worker } from 'node:worker_threads';

/**
 * Starts the worker module `./<stem>.js` next to `callerUrl` (the caller's `import.meta.url`). Run from
 * the TypeScript sources (tests, tsx), a small bootstrap registers tsx's loader in the worker thread
 * first (Node 20 does not apply `--import tsx` to workers) and imports `./<stem>.ts`. `resourceLimits`
 * bounds its heap (a long-lived worker need not grow the young generation to the main thread's size).
 */
export function startWorker(
  callerUrl: string,
  stem: string,
  workerData: unknown,
  resourceLimits?: ResourceLimits,
): Worker {
  const options = { workerData, ...(resourceLimits ? { resourceLimits } : {}) };
  if (!callerUrl.endsWith('.ts')) {
    return new Worker(new URL(`./${stem}.js`, callerUrl), options);
  }
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const target = new URL(`./${stem}.ts`, callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then(({ register }) => { register(); return import(${JSON.stringify(target)}); });`;
  return new Worker(bootstrap, { eval: true, ...options });
}
