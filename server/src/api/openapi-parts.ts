import { ApiError } from '@downstream/shared';
import type { z } from 'zod';

/*
 * The pieces every route group's OpenAPI description is made of, so /api/openapi.json says the
 * same thing the same way for every group (app.ts, history.ts, reports.ts, subscribers.ts).
 */

/** ApiError, registered once as a component of the document. */
export const ApiErrorC = ApiError.meta({ id: 'ApiError' });

/** A JSON response (or body) of `schema`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

/** Routes behind a bearer token (auth.tokens). */
export const security = [{ bearer: [] as string[] }];

/** 400 / 401 / 403 of a route behind a role; a 400's `details` name each offending `what`. */
export function roleErrors(what: 'field' | 'parameter' = 'field') {
  return {
    400: json(ApiErrorC, `Invalid request; \`details\` names each offending ${what}`),
    401: json(ApiErrorC, 'Missing or unrecognised token'),
    403: json(ApiErrorC, 'Token role too low'),
  };
}
