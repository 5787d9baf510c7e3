import { describe, expect, it } from 'vitest';
import { classify, isUnavailable, StoreUnavailableError } from './errors.js';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('store errors', () => {
  it('an unreachable or shutting-down database is "unavailable"; a bug is not', () => {
    expect(isUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true);
    expect(isUnavailable(withCode('terminating connection due to administrator command', '57P01'))).toBe(true);
    expect(isUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true);
    expect(isUnavailable(withCode('connection failure', '08006'))).toBe(true);
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isUnavailable(withCode('database is locked', 'SQLITE_BUSY'))).toBe(true);
    expect(isUnavailable(withCode('syntax error at or near "SELEC"', '42601'))).toBe(false);
    expect(isUnavailable(withCode('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_PRIMARYKEY'))).toBe(false);
    expect(isUnavailable('a string')).toBe(false);
  });

  it('wraps only the unavailable ones, naming what failed and why', () => {
    const down = classify('writing an audit entry', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'));
    expect(down).toBeInstanceOf(StoreUnavailableError);
    expect((down as Error).message).toBe('store: writing an audit entry failed: connect ECONNREFUSED 127.0.0.1:5432');
    const bug = withCode('syntax error', '42601');
    expect(classify('reading', bug)).toBe(bug);
  });
});
