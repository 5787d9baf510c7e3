import type { ApiError } from '@downstream/shared';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';

export type ErrorDetail = NonNullable<ApiError['details']>[number];

/** Every error the API returns: `{ error, details }`, never a stack trace. */
export function errorBody(error: string, details?: ErrorDetail[]): ApiError {
  return details && details.length > 0 ? { error, details } : { error };
}

export function jsonError(c: Context, status: ContentfulStatusCode, error: string, details?: ErrorDetail[]): Response {
  return c.json(errorBody(error, details), status);
}

/** zod issues → details naming the offending field, prefixed by where it came from (query, body…). */
export function zodDetails(error: z.core.$ZodError, where?: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  for (const i of error.issues) {
    const base = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)));
    const join = (parts: string[]): string => {
      const s = parts.reduce((acc, p) => (p.startsWith('[') ? acc + p : acc ? `${acc}.${p}` : p), '');
      return where ? (s ? `${where}.${s}` : where) : s || '(root)';
    };
    if (i.code === 'unrecognized_keys') {
      for (const k of i.keys) out.push({ path: join([...base, k]), message: 'unknown field' });
    } else {
      out.push({ path: join(base), message: i.message });
    }
  }
  return out;
}
