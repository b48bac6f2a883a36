import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { OnsetError } from '../errors.js';

/**
 * Who may call a route, declared on it as `config.access`:
 * - `public`: anyone;
 * - `apiKey`: with the header `X-API-Key: <ONSET_API_KEY>` when an API key is configured;
 * - `admin`: with `Authorization: Bearer <ONSET_ADMIN_TOKEN>` when an admin token is configured.
 */
export type Access = 'public' | 'apiKey' | 'admin';

export const ACCESS_POLICIES: readonly Access[] = ['public', 'apiKey', 'admin'];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route; every route declares it (see `enforceAccess`). */
    readonly access?: Access;
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
    description: 'ONSET_ADMIN_TOKEN; needed by registry and pipeline changes when the server has one',
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
  apiKey: [{ apiKey: [] }],
  admin: [{ adminToken: [] }],
};

/**
 * Applies every route's declared access policy: a route declared after this call gets the check its
 * policy needs (only when the secret is configured, so an open route costs nothing) and the matching
 * `security` in `/docs`. A route without a policy is refused when it is declared, so none can be added
 * without one. The pages of `/docs` itself (hidden from the document they serve) are public.
 */
export function enforceAccess(app: FastifyInstance, secrets: AccessSecrets): void {
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

function accessCheck(
  access: Access,
  secrets: AccessSecrets,
  where: string,
): onRequestHookHandler | undefined {
  if (access === 'admin' && secrets.adminToken !== undefined) {
    const expected = `Bearer ${secrets.adminToken}`;
    const message = `This route (${where}) needs the admin token: send "Authorization: Bearer <ONSET_ADMIN_TOKEN>"`;
    return (request, _reply, done) => {
      done(
        request.headers.authorization === expected ? undefined : new OnsetError('UNAUTHENTICATED', message),
      );
    };
  }
  if (access === 'apiKey' && secrets.apiKey !== undefined) {
    const expected = secrets.apiKey;
    const message = `This route (${where}) needs an API key: send the header "X-API-Key: <ONSET_API_KEY>"`;
    return (request, _reply, done) => {
      done(
        request.headers['x-api-key'] === expected ? undefined : new OnsetError('UNAUTHENTICATED', message),
      );
    };
  }
  return undefined;
}
