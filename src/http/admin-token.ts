import type { FastifyRequest } from 'fastify';
import { OnsetError } from '../errors.js';

/**
 * Refuses a request without `Authorization: Bearer <token>` when an admin token is configured
 * (`ONSET_ADMIN_TOKEN`); `what` names the change in the error ("This registry change", ...).
 */
export function requireAdminToken(request: FastifyRequest, token: string | undefined, what: string): void {
  if (token === undefined) return;
  if ((request.headers.authorization ?? '') !== `Bearer ${token}`) {
    throw new OnsetError(
      'UNAUTHENTICATED',
      `${what} needs the admin token: send "Authorization: Bearer <ONSET_ADMIN_TOKEN>"`,
    );
  }
}
