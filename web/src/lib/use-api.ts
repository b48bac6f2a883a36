import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { onCredentialsChange } from '../api/http.js';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: Error | undefined;
  readonly loading: boolean;
  /** Loads again (keeping the data shown meanwhile). */
  readonly reload: () => void;
}

/**
 * Data from the API for a component: loaded when `deps` change and when the user gives new credentials,
 * with the error kept to show where the data would be. An answer that arrives after a newer request
 * started is dropped.
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [generation, setGeneration] = useState(0);
  const latest = useRef(0);
  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  useEffect(() => onCredentialsChange(reload), [reload]);
  useEffect(() => {
    const id = ++latest.current;
    const controller = new AbortController();
    setState((previous) => ({ ...previous, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (id === latest.current) setState({ data, error: undefined, loading: false });
      },
      (error: Error) => {
        if (id === latest.current && error.name !== 'AbortError')
          setState((previous) => ({ data: previous.data, error, loading: false }));
      },
    );
    return () => controller.abort();
  }, [...deps, generation]);
  return { ...state, reload };
}

/** Calls `tick` every `ms` while the page is visible (and once at once). */
export function useInterval(tick: () => void, ms: number | undefined): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (ms === undefined) return;
    const id = setInterval(() => {
      if (document.visibilityState === 'visible') saved.current();
    }, ms);
    return () => clearInterval(id);
  }, [ms]);
}
