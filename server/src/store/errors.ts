/** A write or read the store could not make because its database could not be reached or is not taking work. */
export class StoreUnavailableError extends Error {
  constructor(what: string, cause: unknown) {
    super(`store: ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

const NET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
// PostgreSQL SQLSTATEs of a server going away or not taking connections: connection_exception
// (08xxx), admin/crash shutdown, cannot connect now, too many connections.
const PG_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
// SQLite: locked by another process for longer than busy_timeout, disk full, I/O error.
const SQLITE_CODES = /^SQLITE_(BUSY|FULL|IOERR)/;

/**
 * Whether an error means "the database is unavailable" (retry later) rather than a bug: only
 * those become StoreUnavailableError (HTTP 503); anything else stays what it is (500).
 */
export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NET_CODES.has(code) || PG_STATES.has(code) || code.startsWith('08') || SQLITE_CODES.test(code)) return true;
  }
  return /Connection terminated|connection error|timeout exceeded when trying to connect|Query read timeout/i.test(
    err.message,
  );
}

/** `err` as a StoreUnavailableError when it is one of those, else as it was. */
export function classify(what: string, err: unknown): unknown {
  return isUnavailable(err) ? new StoreUnavailableError(what, err) : err;
}
