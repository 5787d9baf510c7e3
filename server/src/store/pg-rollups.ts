import type { IncidentKind } from '@downstream/shared';
import type pg from 'pg';
import { classify } from './errors.js';
import type { RollupReader } from './rollup-queries.js';

/** The rollup reads of rollup-queries.ts in PostgreSQL. */
export function pgRollupReader(pool: pg.Pool): RollupReader {
  const q = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => {
    try {
      return (await pool.query<R>(sql, params)).rows;
    } catch (e) {
      throw classify('reading', e);
    }
  };
  return {
    async sums(table, x) {
      const params: unknown[] = [x.dimension, x.from, x.to];
      let where = 'dim = $1 AND t >= $2 AND t < $3';
      if (x.kind) where += ` AND kind = $${params.push(x.kind)}`;
      if (x.keys) where += ` AND key = ANY($${params.push(x.keys)}::text[])`;
      const rows = await q<{ key: string; kind: IncidentKind; p: number; b: number; f: number; m: number }>(
        `SELECT key, kind, SUM(packets) AS p, SUM(bytes) AS b, SUM(flows) AS f, MAX(t) AS m FROM ${table}
         WHERE ${where} GROUP BY key, kind`,
        params,
      );
      return rows.map((r) => [r.key, r.kind, r.p, r.b, r.f, r.m]);
    },
    async lastMinute(dimension, key, from, to) {
      const rows = await q<{ last: number | null }>(
        'SELECT MAX(t) AS last FROM rollup_minute WHERE dim = $1 AND key = $2 AND t >= $3 AND t < $4',
        [dimension, key, from, to],
      );
      return rows[0]?.last ?? null;
    },
    async series(table, x) {
      const params: unknown[] = [x.dimension, x.keys, x.first, x.step, x.to];
      const kind = x.kind ? ` AND kind = $${params.push(x.kind)}` : '';
      const rows = await q<{ key: string; b: number[]; p: number[]; y: number[]; f: number[] }>(
        `SELECT key, array_agg(((t - $3) / $4)::int) AS b, array_agg(packets) AS p, array_agg(bytes) AS y,
                array_agg(flows) AS f
         FROM ${table} WHERE dim = $1 AND key = ANY($2::text[]) AND t >= $3 AND t < $5${kind} GROUP BY key`,
        params,
      );
      return rows.map((r) => ({ key: r.key, buckets: r.b, packets: r.p, bytes: r.y, flows: r.f }));
    },
    async rows(table, x) {
      return q(
        `SELECT t, kind, packets, bytes, flows FROM ${table} WHERE dim = $1 AND key = $2 AND t >= $3 AND t < $4
         ORDER BY t DESC, kind LIMIT $5`,
        [x.dimension, x.key, x.from, x.to, x.limit],
      );
    },
  };
}
