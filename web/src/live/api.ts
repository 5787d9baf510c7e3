import { ApiError } from '@downstream/shared';
import type { z } from 'zod';
import { authHeaders } from './token.js';

/** A failed API call, with a message an operator can act on. */
export class ApiRequestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly path: string,
  ) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

function advice(status: number): string {
  if (status === 401) return 'The server wants a token: open the page with ?token=YOUR_TOKEN.';
  if (status === 403) return 'Your token is not allowed to do this; an operator token is needed.';
  if (status === 404) return 'Not found: it may have expired or the link is wrong.';
  if (status >= 500) return 'The server failed; check its log and try again.';
  return 'Check the request and try again.';
}

/**
 * fetch + JSON + schema check. `auth` supplies the Authorization header; a Web Worker (no
 * localStorage there) passes the headers the page gave it.
 */
export async function request<S extends z.ZodType>(
  path: string,
  schema: S,
  init?: RequestInit,
  auth: () => Record<string, string> = authHeaders,
): Promise<z.infer<S>> {
  let res: Response;
  try {
    res = await fetch(path, {
      ...init,
      headers: { Accept: 'application/json', ...auth(), ...(init?.headers ?? {}) },
    });
  } catch (err) {
    throw new ApiRequestError(
      `Cannot reach the Downstream server (${(err as Error).message}). Check that it is running.`,
      0,
      path,
    );
  }
  const text = await res.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const parsed = ApiError.safeParse(body);
    const detail = parsed.success
      ? parsed.data.error +
        (parsed.data.details?.length
          ? ` (${parsed.data.details.map((d) => `${d.path}: ${d.message}`).join('; ')})`
          : '')
      : `HTTP ${res.status}`;
    throw new ApiRequestError(`${detail}. ${advice(res.status)}`, res.status, path);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ApiRequestError(
      `The server answered ${path} with data this page does not understand (${issue?.path.join('.') || 'body'}: ${issue?.message}). Server and web app versions may differ; reload the page.`,
      res.status,
      path,
    );
  }
  return parsed.data;
}

export function apiGet<S extends z.ZodType>(path: string, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
  return request(path, schema, { signal });
}

export function apiPost<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.infer<S>> {
  return request(path, schema, {
    method: 'POST',
    body: JSON.stringify(body ?? {}),
    headers: { 'Content-Type': 'application/json' },
  });
}

export function apiDelete<S extends z.ZodType>(path: string, schema: S): Promise<z.infer<S>> {
  return request(path, schema, { method: 'DELETE' });
}

/** `attachment; filename="x.json"` → `x.json`. */
export function filenameOf(disposition: string | null, fallback: string): string {
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition ?? '');
  return m?.[1] ? decodeURIComponent(m[1]) : fallback;
}

/**
 * Downloads a server-generated file (abuse report, CSV). A plain link cannot carry the bearer
 * token, so the file is fetched with it and handed to the browser as a blob.
 */
export async function downloadFile(path: string, fallbackName: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { headers: authHeaders() });
  } catch (err) {
    throw new ApiRequestError(
      `Cannot reach the Downstream server (${(err as Error).message}). Check that it is running.`,
      0,
      path,
    );
  }
  if (!res.ok) {
    const parsed = ApiError.safeParse(await res.json().catch(() => undefined));
    throw new ApiRequestError(
      `${parsed.success ? parsed.data.error : `HTTP ${res.status}`}. ${advice(res.status)}`,
      res.status,
      path,
    );
  }
  const name = filenameOf(res.headers.get('Content-Disposition'), fallbackName);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
  return name;
}
