/**
 * Loads data, then reloads it every `intervalMs` (null: once) until the
 * component goes away or `deps` change. A reload starts only after the
 * previous one finished, so a slow server never piles up requests.
 */
import { useCallback, useEffect, useRef, useState, type DependencyList } from 'react';

export interface Polled<T> {
  readonly data: T | undefined;
  readonly error: unknown;
  readonly loading: boolean;
  /** Reloads now (and restarts the interval). A property, so it can be passed as an onClick handler. */
  readonly refresh: () => void;
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number | null, deps: DependencyList): Polled<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const data = await loadRef.current();
        if (alive) setState({ data, error: undefined, loading: false });
      } catch (error) {
        if (alive) setState((s) => ({ data: s.data, error, loading: false }));
      }
      if (alive && intervalMs !== null) timer = setTimeout(() => void run(), intervalMs);
    };
    setState((s) => ({ ...s, loading: true }));
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, [...deps, intervalMs, tick]); // the caller's deps decide when to restart

  const refresh = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, refresh };
}
