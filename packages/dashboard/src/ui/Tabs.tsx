/** WAI-ARIA tabs: arrow keys, Home and End move between tabs; Tab moves into the panel. */
import { useId, useRef, type JSX, type KeyboardEvent, type ReactNode } from 'react';

export interface Tab<K extends string> {
  readonly key: K;
  readonly label: string;
}

export function Tabs<K extends string>({ tabs, selected, onSelect, children, label }: { readonly tabs: ReadonlyArray<Tab<K>>; readonly selected: K; readonly onSelect: (k: K) => void; readonly children: ReactNode; readonly label: string }): JSX.Element {
  const base = useId();
  const refs = useRef(new Map<K, HTMLButtonElement>());
  const onKeyDown = (e: KeyboardEvent): void => {
    const i = tabs.findIndex((t) => t.key === selected);
    const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? tabs.length - 1 : undefined;
    if (to === undefined) return;
    e.preventDefault();
    const next = tabs[(to + tabs.length) % tabs.length];
    if (!next) return;
    onSelect(next.key);
    refs.current.get(next.key)?.focus();
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            id={`${base}-tab-${t.key}`}
            aria-selected={t.key === selected}
            aria-controls={`${base}-panel`}
            tabIndex={t.key === selected ? 0 : -1}
            ref={(el) => {
              if (el) refs.current.set(t.key, el);
              else refs.current.delete(t.key);
            }}
            onClick={() => onSelect(t.key)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-tab-${selected}`} className="tabpanel">
        {children}
      </div>
    </div>
  );
}
