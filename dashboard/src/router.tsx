// A tiny client router (History API): the current location, navigate(), <Link>, and route matching. Enough for a
// dozen screens without a dependency.
import { type AnchorHTMLAttributes, type MouseEvent, createContext, useContext, useEffect, useState } from 'react';

export interface Loc {
  path: string;
  query: URLSearchParams;
  /** Increments on every client navigation (0 on the first page load): screens move focus to their heading. */
  n: number;
}

const current = (n: number): Loc => ({ path: location.pathname.replace(/\/+$/, '') || '/', query: new URLSearchParams(location.search), n });
const LocCtx = createContext<Loc>(current(0));
let notify: (() => void) | null = null;
let navCount = 0;

export function navigate(to: string, opts: { replace?: boolean } = {}) {
  if (to === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  navCount++;
  notify?.();
  if (!opts.replace) window.scrollTo(0, 0);
}

export function RouterProvider({ children }: { children: React.ReactNode }) {
  const [loc, setLoc] = useState(() => current(0));
  useEffect(() => {
    notify = () => setLoc(current(navCount));
    const pop = () => {
      navCount++;
      setLoc(current(navCount));
    };
    addEventListener('popstate', pop);
    return () => {
      notify = null;
      removeEventListener('popstate', pop);
    };
  }, []);
  return <LocCtx.Provider value={loc}>{children}</LocCtx.Provider>;
}

export const useLoc = () => useContext(LocCtx);

/** Matches a pattern like /customers/:id; returns the decoded params or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const a = path.split('/');
  if (p.length !== a.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i]!.startsWith(':')) out[p[i]!.slice(1)] = decodeURIComponent(a[i]!);
    else if (p[i] !== a[i]) return null;
  }
  return out;
}

export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const click = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(href);
  };
  return <a href={href} onClick={click} {...rest} />;
}
