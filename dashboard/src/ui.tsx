// Shared building blocks: page frame, cards, loading placeholders that hold their space, empty and error states,
// form fields with their error next to them, a confirmation dialog, toasts, and a data-loading hook.
import { type ReactNode, createContext, useCallback, useContext, useEffect, useRef, useState } from 'react';
import { ApiError, messageOf } from './api.ts';
import { useLoc } from './router.tsx';
import { readOnlyReason, useSession, type Area } from './session.tsx';

export function Page({ title, subtitle, actions, children, wide }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; children: ReactNode; wide?: boolean }) {
  const h1 = useRef<HTMLHeadingElement>(null);
  const loc = useLoc();
  useEffect(() => {
    document.title = `${typeof title === 'string' ? title : 'Omnia'} · Omnia`;
  }, [title]);
  // After a client navigation, focus goes to the new screen's heading (screen readers announce it).
  useEffect(() => {
    if (loc.n > 0) h1.current?.focus({ preventScroll: true });
  }, [loc.path, loc.n]);
  return (
    <div className={wide ? 'page page-wide' : 'page'}>
      <header className="page-head">
        <div className="page-title">
          <h1 ref={h1} tabIndex={-1}>
            {title}
          </h1>
          {subtitle ? <div className="subtitle">{subtitle}</div> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </header>
      {children}
    </div>
  );
}

export function Card({ title, actions, children, className, id }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string; id?: string }) {
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={title && id ? `${id}-h` : undefined} id={id}>
      {title || actions ? (
        <div className="card-head">
          {title ? <h2 id={id ? `${id}-h` : undefined}>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </div>
      ) : null}
      {children}
    </section>
  );
}

/** A placeholder of a fixed height while data loads, so nothing moves when it arrives. */
export function Loading({ rows = 3, height }: { rows?: number; height?: number }) {
  return (
    <div className="loading" style={height ? { minHeight: height } : undefined} aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton" style={{ width: `${90 - ((i * 17) % 35)}%` }} />
      ))}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children ? <div className="empty-body">{children}</div> : null}
    </div>
  );
}

/** The API writes messages in lower case for logs; on screen they start a sentence. */
export const sentence = (m: string) => (m ? m[0]!.toUpperCase() + m.slice(1) : m);

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  if (!error) return null;
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <div className={forbidden ? 'notice notice-warn' : 'notice notice-error'} role="alert">
      {sentence(messageOf(error))}
      {onRetry ? (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

export function Badge({ children, tone = 'neutral' }: { children: ReactNode; tone?: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

const STATUS_TONE: Record<string, 'neutral' | 'good' | 'warn' | 'bad' | 'info'> = {
  active: 'good', sent: 'good', delivered: 'good', converted: 'good', subscribed: 'good', winner: 'good',
  draft: 'neutral', archived: 'neutral', never_asked: 'neutral', exited: 'neutral',
  paused: 'warn', deferred: 'warn', scheduled: 'info', sending: 'info', testing: 'info', waiting: 'info', queued: 'info', retry: 'warn',
  failed: 'bad', skipped: 'warn', cancelled: 'neutral', unsubscribed: 'bad',
};
export const StatusBadge = ({ status }: { status: string }) => <Badge tone={STATUS_TONE[status] ?? 'neutral'}>{status.replace(/_/g, ' ')}</Badge>;

/** A labelled form control with its hint and its error right below it (aria-describedby links them). */
export function Field({ id, label, error, hint, children, className }: { id: string; label: ReactNode; error?: string | null; hint?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <div className={`field ${error ? 'field-invalid' : ''} ${className ?? ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${id}-err`} role="alert">
          {sentence(error)}
        </p>
      ) : null}
    </div>
  );
}
/** Props for the control inside a Field. */
export const described = (id: string, error?: string | null, hint?: boolean) => ({
  id,
  'aria-invalid': error ? true : undefined,
  'aria-describedby': error ? `${id}-err` : hint ? `${id}-hint` : undefined,
});

/** A button for a change the user's role may not make: disabled, with the reason as its tooltip. */
export function WriteButton({ area, children, className = 'btn', disabled, title, ...rest }: React.ButtonHTMLAttributes<HTMLButtonElement> & { area: Area }) {
  const s = useSession();
  const allowed = s.can(area);
  return (
    <button type="button" className={className} disabled={!allowed || disabled} title={allowed ? title : readOnlyReason(s.me?.role ?? null)} {...rest}>
      {children}
    </button>
  );
}

export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (d: T) => void;
}

/** Loads data when deps change; the previous data stays on screen while reloading (no flash). */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    fn().then(
      (d) => {
        if (!live) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { data, error, loading, reload: useCallback(() => setTick((t) => t + 1), []), setData };
}

// ---- confirmation dialog ----
interface ConfirmOpts {
  title: string;
  body: ReactNode;
  confirm: string;
  danger?: boolean;
  /** The user must type this to confirm (irreversible actions). */
  typeToConfirm?: string;
}
const ConfirmCtx = createContext<(o: ConfirmOpts) => Promise<boolean>>(async () => false);
export const useConfirm = () => useContext(ConfirmCtx);

export function ConfirmProvider({ children }: { children: ReactNode }) {
  const [opts, setOpts] = useState<ConfirmOpts | null>(null);
  const [typed, setTyped] = useState('');
  const resolver = useRef<(v: boolean) => void>(() => {});
  const dialog = useRef<HTMLDialogElement>(null);
  const ask = useCallback((o: ConfirmOpts) => {
    setTyped('');
    setOpts(o);
    return new Promise<boolean>((r) => (resolver.current = r));
  }, []);
  useEffect(() => {
    if (opts && dialog.current && !dialog.current.open) dialog.current.showModal();
  }, [opts]);
  const close = (v: boolean) => {
    dialog.current?.close();
    setOpts(null);
    resolver.current(v);
  };
  const blocked = !!opts?.typeToConfirm && typed.trim() !== opts.typeToConfirm;
  return (
    <ConfirmCtx.Provider value={ask}>
      {children}
      <dialog ref={dialog} className="dialog" aria-labelledby="confirm-title" onCancel={(e) => (e.preventDefault(), close(false))}>
        {opts ? (
          <form
            method="dialog"
            onSubmit={(e) => {
              e.preventDefault();
              if (!blocked) close(true);
            }}
          >
            <h2 id="confirm-title">{opts.title}</h2>
            <div className="dialog-body">{opts.body}</div>
            {opts.typeToConfirm ? (
              <Field id="confirm-type" label={<>Type <strong>{opts.typeToConfirm}</strong> to confirm</>}>
                <input id="confirm-type" autoComplete="off" value={typed} onChange={(e) => setTyped(e.target.value)} autoFocus />
              </Field>
            ) : null}
            <div className="dialog-actions">
              <button type="button" className="btn" onClick={() => close(false)} autoFocus={!opts.typeToConfirm}>
                Cancel
              </button>
              <button type="submit" className={opts.danger ? 'btn btn-danger' : 'btn btn-primary'} disabled={blocked}>
                {opts.confirm}
              </button>
            </div>
          </form>
        ) : null}
      </dialog>
    </ConfirmCtx.Provider>
  );
}

// ---- toasts (polite announcements of what just happened) ----
const ToastCtx = createContext<(msg: string, tone?: 'good' | 'bad') => void>(() => {});
export const useToast = () => useContext(ToastCtx);

export function ToastProvider({ children }: { children: ReactNode }) {
  const [items, setItems] = useState<{ id: number; msg: string; tone: 'good' | 'bad' }[]>([]);
  const n = useRef(0);
  const push = useCallback((msg: string, tone: 'good' | 'bad' = 'good') => {
    const id = ++n.current;
    setItems((xs) => [...xs.slice(-2), { id, msg, tone }]);
    setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), 6000);
  }, []);
  return (
    <ToastCtx.Provider value={push}>
      {children}
      <div className="toasts" role="status" aria-live="polite">
        {items.map((t) => (
          <div key={t.id} className={`toast toast-${t.tone}`}>
            <span>{t.msg}</span>
            {/* Toasts sit over the page's corner for 6 s: a click puts away one that covers a button. */}
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => setItems((xs) => xs.filter((x) => x.id !== t.id))}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastCtx.Provider>
  );
}

/** Key/value rows (a definition list). */
export function KV({ rows }: { rows: [ReactNode, ReactNode][] }) {
  return (
    <dl className="kv">
      {rows.map(([k, v], i) => (
        <div key={i} className="kv-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Calls fn `ms` after the last change of deps (live counts, validation while editing). */
export function useDebounced(fn: () => void | (() => void), deps: unknown[], ms: number) {
  useEffect(() => {
    let cleanup: void | (() => void);
    const t = setTimeout(() => (cleanup = fn()), ms);
    return () => {
      clearTimeout(t);
      if (typeof cleanup === 'function') cleanup();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}
