import type { IncidentKind } from '@downstream/shared';
import type Database from 'better-sqlite3';
import type { RollupReader } from './rollup-queries.js';

/** The rollup reads of rollup-queries.ts in SQLite. */
export function sqliteRollupReader(db: Database.Database): RollupReader {
  const kindClause = (kind: IncidentKind | undefined, params: unknown[]): string => {
    if (!kind) return '';
    params.push(kind);
    return ' AND kind = ?';
  };
  const keysClause = (keys: string[] | undefined, params: unknown[]): string => {
    if (!keys) return '';
    params.push(JSON.stringify(keys));
    return ' AND key IN (SELECT value FROM json_each(?))';
  };
  const seriesStmts = new Map<string, Database.Statement>();
  const lastIn = db.prepare<[string, string, number, number], { last: number | null }>(
    'SELECT MAX(t) AS last FROM rollup_minute WHERE dim = ? AND key = ? AND t >= ? AND t < ?',
  );

  return {
    async sums(table, q) {
      const params: unknown[] = [q.dimension, q.from, q.to];
      const where = `dim = ? AND t >= ? AND t < ?${kindClause(q.kind, params)}${keysClause(q.keys, params)}`;
      return db
        .prepare(
          `SELECT key, kind, SUM(packets), SUM(bytes), SUM(flows), MAX(t) FROM ${table} WHERE ${where} GROUP BY key, kind`,
        )
        .raw()
        .all(...params) as [string, IncidentKind, number, number, number, number][];
    },
    async lastMinute(dimension, key, from, to) {
      return lastIn.get(dimension, key, from, to)?.last ?? null;
    },
    async series(table, q) {
      // One query for all keys shown, each key's rows folded into JSON arrays by SQLite and
      // parsed natively: materialising a JS row per (key, bucket) cost ~3x more.
      const k = `${table}:${q.kind !== undefined}`;
      let stmt = seriesStmts.get(k);
      if (!stmt) {
        stmt = db
          .prepare(
            `SELECT key, json_group_array(b), json_group_array(p), json_group_array(y), json_group_array(f) FROM (
               SELECT key, CAST((t - @first) / @step AS INTEGER) AS b, packets AS p, bytes AS y, flows AS f FROM ${table}
               WHERE dim = @dim AND key IN (SELECT value FROM json_each(@keys)) AND t >= @first AND t < @to${q.kind !== undefined ? ' AND kind = @kind' : ''}
             ) GROUP BY key`,
          )
          .raw();
        seriesStmts.set(k, stmt);
      }
      const rows = stmt.all({
        first: q.first,
        step: q.step,
        to: q.to,
        dim: q.dimension,
        keys: JSON.stringify(q.keys),
        ...(q.kind ? { kind: q.kind } : {}),
      }) as [string, string, string, string, string][];
      return rows.map((r) => ({
        key: r[0],
        buckets: JSON.parse(r[1]) as number[],
        packets: JSON.parse(r[2]) as number[],
        bytes: JSON.parse(r[3]) as number[],
        flows: JSON.parse(r[4]) as number[],
      }));
    },
    async rows(table, q) {
      return db
        .prepare<
          [string, string, number, number, number],
          { t: number; kind: IncidentKind; packets: number; bytes: number; flows: number }
        >(
          `SELECT t, kind, packets, bytes, flows FROM ${table} WHERE dim = ? AND key = ? AND t >= ? AND t < ? ORDER BY t DESC, kind LIMIT ?`,
        )
        .all(q.dimension, q.key, q.from, q.to, q.limit);
    },
  };
}
