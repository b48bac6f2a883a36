import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import { OnsetError } from '../errors.js';

/**
 * Who may call a route, declared on it as `config.access` (the table is in docs/http-api.md):
 * - `public`: anyone: health, readiness, Prometheus metrics and the OpenAPI pages;
 * - `apiKey`: prediction clients: `X-API-Key: <ONSET_API_KEY>` (or the admin token) when a key is
 *   configured: predictions, explanations and the served model's description;
 * - `admin`: everything else, reads and writes: tracking, registry, artifacts (models included),
 *   pipelines and their logs: `Authorization: Bearer <ONSET_ADMIN_TOKEN>` (MLflow clients send it from
 *   `MLFLOW_TRACKING_TOKEN`) when an admin token is configured.
 */
export type Access = 'public' | 'apiKey' | 'admin';

export const ACCESS_POLICIES: readonly Access[] = ['public', 'apiKey', 'admin'];

/**
 * Who made a request, as its credentials prove: `admin` (the admin token), `api-key` (the API key), or
 * `anonymous` (no credentials were needed: the route is public or its secret is not configured). What
 * the registry records as the author of a change, never a name the client claims.
 */
export type Principal = 'admin' | 'api-key' | 'anonymous';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route declares it (see `enforceAccess`). */
    readonly access?: Access;
  }
  interface FastifyRequest {
    /** Who made the request (set by the route's access check). */
    principal: Principal;
  }
}

/** The secrets the policies check; a policy whose secret is not configured lets every request through. */
export interface AccessSecrets {
  readonly adminToken?: string | undefined;
  readonly apiKey?: string | undefined;
}

/** The OpenAPI security schemes the policies document (`components.securitySchemes` of `/docs`). */
export const SECURITY_SCHEMES = {
  adminToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'ONSET_ADMIN_TOKEN (MLflow clients: MLFLOW_TRACKING_TOKEN); needed by every tracking, registry, artifact and pipeline route when the server has one',
  },
  apiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-API-Key',
    description: 'ONSET_API_KEY; needed by the prediction routes when the server has one',
  },
} as const;

const SECURITY: Readonly<Record<Access, readonly Record<string, readonly string[]>[]>> = {
  public: [],
  apiKey: [{ apiKey: [] }, { adminToken: [] }],
  admin: [{ adminToken: [] }],
};

/** What a policy needs that the server has no secret for: the APIs it leaves open, by secret. */
export function openPolicies(secrets: AccessSecrets): readonly { access: Access; secret: string }[] {
  return [
    ...(secrets.adminToken === undefined ? [{ access: 'admin' as const, secret: 'ONSET_ADMIN_TOKEN' }] : []),
    ...(secrets.apiKey === undefined ? [{ access: 'apiKey' as const, secret: 'ONSET_API_KEY' }] : []),
  ];
}

/**
 * Applies every route's declared access policy: a route declared after this call gets the check its
 * policy needs (only when the secret is configured, so an open route costs nothing) and the matching
 * `security` in `/docs`. A route without a policy is refused when it is declared, so none can be added
 * without one. The pages of `/docs` itself (hidden from the document they serve) are public.
 */
export function enforceAccess(app: FastifyInstance, secrets: AccessSecrets): void {
  app.decorateRequest('principal', 'anonymous');
  app.addHook('onRoute', (route) => {
    const where = `${String(route.method)} ${route.url}`;
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true;
    const access = route.config?.access ?? (hidden ? 'public' : undefined);
    if (access === undefined || !ACCESS_POLICIES.includes(access)) {
      throw new Error(
        `Route ${where} declares no access policy: set config.access to one of ${ACCESS_POLICIES.join(', ')}`,
      );
    }
    if (!hidden) route.schema = { ...route.schema, security: SECURITY[access] };
    const check = accessCheck(access, secrets, where);
    if (check) {
      const existing = route.onRequest;
      route.onRequest =
        existing === undefined ? [check] : [check, ...(Array.isArray(existing) ? existing : [existing])];
    }
  });
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * A check of one secret that takes the same time whatever the guess (the digests have one length, and
 * `timingSafeEqual` compares them in constant time), so a client cannot find the secret byte by byte.
 */
function secretCheck(secret: string | undefined): (given: string | undefined) => boolean {
  if (secret === undefined) return () => false;
  const expected = digest(secret);
  return (given) => given !== undefined && timingSafeEqual(digest(given), expected);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

function apiKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  return Array.isArray(header) ? header[0] : header;
}

function accessCheck(
  access: Access,
  secrets: AccessSecrets,
  where: string,
): onRequestHookHandler | undefined {
  const isAdmin = secretCheck(secrets.adminToken);
  if (access === 'admin' && secrets.adminToken !== undefined) {
    const message = `This route (${where}) needs the admin token: send "Authorization: Bearer <ONSET_ADMIN_TOKEN>" (MLflow clients: set MLFLOW_TRACKING_TOKEN)`;
    return (request, _reply, done) => {
      if (!isAdmin(bearer(request))) return done(new OnsetError('UNAUTHENTICATED', message));
      request.principal = 'admin';
      done();
    };
  }
  if (access === 'apiKey' && secrets.apiKey !== undefined) {
    const isKey = secretCheck(secrets.apiKey);
    const message = `This route (${where}) needs an API key: send the header "X-API-Key: <ONSET_API_KEY>"`;
    return (request, _reply, done) => {
      if (isKey(apiKeyOf(request))) request.principal = 'api-key';
      else if (request.headers.authorization !== undefined && isAdmin(bearer(request)))
        request.principal = 'admin';
      else return done(new OnsetError('UNAUTHENTICATED', message));
      done();
    };
  }
  return undefined;
}
