import type { FastifyInstance } from 'fastify';
import FindMyWay from 'find-my-way';

/**
 * The methods each path of an app answers, so that a request with a method its path does not take gets
 * 405 with an `Allow` header (as RFC 9110 asks, and as MLflow's own server answers) instead of the 404 of
 * a path that does not exist. Fastify's router answers both with its not-found handler; this keeps a
 * second router (find-my-way, Fastify's own, so paths match the same way) that only records which
 * methods each route pattern takes. Call it before the routes are declared.
 */
export function trackAllowedMethods(app: FastifyInstance): (url: string) => readonly string[] {
  const router = FindMyWay();
  const methodsByPattern = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let known = methodsByPattern.get(route.url);
    if (!known) {
      known = new Set();
      methodsByPattern.set(route.url, known);
      // This router only matches paths: every pattern is filed under GET, with the methods it takes.
      router.on('GET', route.url, () => undefined, known);
    }
    for (const method of methods) known.add(method);
    if (known.has('GET')) known.add('HEAD');
  });
  /** The methods a request's path (query string and all) takes, sorted; empty when no route matches it. */
  return (url) => {
    const found = router.find('GET', url);
    return found ? [...(found.store as Set<string>)].sort() : [];
  };
}
