// The signed-in user: who they are, their role in the current workspace, what that role may change, and the session's
// end (sign-out, or expiry noticed on any 401: back to the sign-in page with the reason).
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { ApiError, get, onUnauthorized, post, setCsrf } from './api.ts';
import { navigate } from './router.tsx';

export type Role = 'owner' | 'marketer' | 'support' | 'viewer';
export interface Me {
  user: { id: string; email: string; name: string };
  role: Role | null;
  workspace: { id: string; name: string } | null;
  workspaces: { id: string; name: string; role: Role }[];
  csrf: string;
  expiresAt: number;
}

/** The API areas a role may change, as src/access/roles.ts decides (the API enforces it; the UI only mirrors it). */
/** 'settings' is the messaging policy, topics and brand kit (marketers too); 'admin' is users, API keys and channel
 *  providers (owners only, as OWNER_ONLY in roles.ts). */
export type Area = 'profiles' | 'segments' | 'journeys' | 'templates' | 'broadcasts' | 'settings' | 'admin';
export function canWrite(role: Role | null, area: Area): boolean {
  if (role === 'owner') return true;
  if (role === 'marketer') return area !== 'admin';
  if (role === 'support') return area === 'profiles';
  return false;
}

type State = { status: 'loading' } | { status: 'signedOut'; message?: string } | { status: 'signedIn'; me: Me };

interface SessionApi {
  state: State;
  me: Me | null;
  /** First run: no user exists yet (told by the server in index.html). */
  setupRequired: boolean;
  /** The server said setup is done (no need to offer it). */
  setupDone: boolean;
  signedIn(me: Me): void;
  signOut(): Promise<void>;
  switchWorkspace(id: string): Promise<void>;
  can(area: Area): boolean;
}

const Ctx = createContext<SessionApi | null>(null);
export const useSession = () => useContext(Ctx)!;
export const useCan = (area: Area) => useSession().can(area);
export const readOnlyReason = (role: Role | null) => `Your role (${role ?? 'none'}) cannot change this`;

const setupMeta = () => document.querySelector('meta[name="omnia-setup"]')?.getAttribute('content') ?? '';

export function SessionProvider({ children }: { children: React.ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  const [setup, setSetup] = useState(setupMeta);

  const signedIn = useCallback((me: Me) => {
    setCsrf(me.csrf);
    setSetup('done');
    setState({ status: 'signedIn', me });
  }, []);

  const expire = useCallback((message: string) => {
    setCsrf('');
    setState((s) => (s.status === 'signedOut' ? s : { status: 'signedOut', message: /expired/i.test(message) ? 'Your session has expired. Sign in again to continue.' : `You were signed out (${message}). Sign in again to continue.` }));
  }, []);

  const check = useCallback(async () => {
    try {
      signedIn(await get<Me>('/auth/me'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setState((s) => (s.status === 'signedIn' ? { status: 'signedOut', message: 'Your session has expired. Sign in again to continue.' } : { status: 'signedOut' }));
      else setState((s) => (s.status === 'loading' ? { status: 'signedOut', message: e instanceof Error ? e.message : String(e) } : s));
    }
  }, [signedIn]);

  useEffect(() => {
    onUnauthorized(expire);
    void check();
    // Coming back to the tab after a long time: find out at once whether the session is still there.
    const vis = () => {
      if (document.visibilityState === 'visible') void get<Me>('/auth/me').then(signedIn, (e) => e instanceof ApiError && e.status === 401 && expire(e.message));
    };
    document.addEventListener('visibilitychange', vis);
    return () => document.removeEventListener('visibilitychange', vis);
  }, [check, expire, signedIn]);

  const signOut = useCallback(async () => {
    try {
      await post('/auth/logout');
    } catch {
      /* signed out anyway: the cookie is cleared or already invalid */
    }
    setCsrf('');
    setState({ status: 'signedOut', message: 'You have signed out.' });
    navigate('/login', { replace: true });
  }, []);

  const switchWorkspace = useCallback(
    async (id: string) => {
      signedIn(await post<Me>('/auth/workspace', { workspaceId: id }));
      navigate('/');
    },
    [signedIn],
  );

  const value = useMemo<SessionApi>(() => {
    const me = state.status === 'signedIn' ? state.me : null;
    return { state, me, setupRequired: setup === 'required', setupDone: setup === 'done', signedIn, signOut, switchWorkspace, can: (area) => canWrite(me?.role ?? null, area) };
  }, [state, setup, signedIn, signOut, switchWorkspace]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}
