import { useEffect, useState } from 'preact/hooks';
import { api, ApiError } from './api';

/** GET `path` now and again whenever `tick` moves (live updates); keeps the last good answer. */
export function useApi<T>(path: string | null, tick: number): { data: T | null; error: string | null; status: number | null } {
  const [state, setState] = useState<{ data: T | null; error: string | null; status: number | null }>({ data: null, error: null, status: null });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    api
      .get<T>(path)
      .then((data) => live && setState({ data, error: null, status: 200 }))
      .catch((e: unknown) => live && setState((s) => ({ data: s.data, error: e instanceof Error ? e.message : String(e), status: e instanceof ApiError ? e.status : null })));
    return () => {
      live = false;
    };
  }, [path, tick]);
  return state;
}
