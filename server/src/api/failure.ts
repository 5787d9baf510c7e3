import type { Context } from 'hono';
import type { Logger } from 'pino';
import { jsonError } from '../http/errors.js';
import { StoreUnavailableError } from '../store/errors.js';

/**
 * The answer to an error no route turned into a response: 503 when the store (incidents, audit
 * trail, actions database) could not be reached, so the operator or script knows the action was
 * not recorded and retries it; else 500. Every router with an onError of its own ends in this.
 */
export function failureResponse(c: Context, err: unknown, logger: Logger, what: string): Response {
  if (err instanceof StoreUnavailableError) {
    logger.error({ err, method: c.req.method, path: c.req.path }, 'store unavailable');
    return jsonError(c, 503, 'store unavailable: the action may not be recorded, retry it', [
      { path: 'storage', message: err.message },
    ]);
  }
  logger.error({ err, method: c.req.method, path: c.req.path }, what);
  return jsonError(c, 500, 'internal error');
}
