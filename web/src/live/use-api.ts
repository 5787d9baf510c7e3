import { useCallback, useEffect, useState } from 'react';
import type { z } from 'zod';
import { apiGet } from './api.js';

export interface ApiState<T> {
  data?: T;
  error?: string;
  loading: boolean;
  /** Fetch again now (after an action changed what the endpoint answers). */
  reload: () => void;
}

/**
 * GET + validate, refetched when `path` changes and every `refreshMs` if given. A failed
 * refresh keeps the last good data on screen and reports the error beside it.
 */
export function useApi<S extends z.ZodType>(
  path: string | undefined,
  schema: S,
  refreshMs?: number,
): ApiState<z.infer<S>> {
  const [state, setState] = useState<Omit<ApiState<z.infer<S>>, 'reload'>>({ loading: true });
  const [generation, setGeneration] = useState(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => {
    if (!path) return;
    let ctl = new AbortController();
    let alive = true;
    setState((s) => ({ ...s, loading: true }));
    const load = () => {
      ctl = new AbortController();
      apiGet(path, schema, ctl.signal)
        .then((data) => alive && setState({ data, loading: false }))
        .catch(
          (e: Error) => alive && !ctl.signal.aborted && setState((s) => ({ ...s, error: e.message, loading: false })),
        );
    };
    load();
    const t = refreshMs ? window.setInterval(load, refreshMs) : undefined;
    return () => {
      alive = false;
      ctl.abort();
      if (t) window.clearInterval(t);
    };
  }, [path, schema, refreshMs, generation]);
  return { ...state, reload };
}
