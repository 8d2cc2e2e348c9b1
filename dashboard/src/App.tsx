// The app shell: sign-in gate, navigation (a sidebar; a menu button below 800 px), the read-only notice, and routes.
import { Suspense, lazy, useEffect, useRef, useState } from 'react';
import { Link, RouterProvider, match, navigate, useLoc } from './router.tsx';
import { SessionProvider, canWrite, useSession } from './session.tsx';
import { ConfirmProvider, Loading, Page, ToastProvider } from './ui.tsx';
import { Login } from './pages/Login.tsx';
import { Customers } from './pages/Customers.tsx';
import { Profile } from './pages/Profile.tsx';
import { SegmentEditor, Segments } from './pages/Segments.tsx';
import { Journeys, Playbooks } from './pages/Journeys.tsx';
import { TemplateDetail, Templates } from './pages/Templates.tsx';
import { BroadcastDetail, Broadcasts } from './pages/Broadcasts.tsx';


// The heavy screens load their libraries on demand (ECharts, the xyflow canvas).
const Overview = lazy(() => import('./pages/Overview.tsx'));
const JourneyEditor = lazy(() => import('./pages/JourneyEditor.tsx'));
// Editors and settings load on demand too: they are visited less than the lists, and keep the entry chunk small.
const BroadcastCompose = lazy(() => import('./pages/BroadcastCompose.tsx').then((m) => ({ default: m.BroadcastCompose })));
const TemplateEdit = lazy(() => import('./pages/TemplateEdit.tsx').then((m) => ({ default: m.TemplateEdit })));
const Brand = lazy(() => import('./pages/Brand.tsx').then((m) => ({ default: m.Brand })));
const SettingsPage = lazy(() => import('./pages/SettingsPage.tsx').then((m) => ({ default: m.SettingsPage })));

const NAV: { href: string; label: string; icon: string }[] = [
  { href: '/', label: 'Overview', icon: 'M3 13h8V3H3zm0 8h8v-6H3zm10 0h8V11h-8zm0-18v6h8V3z' },
  { href: '/customers', label: 'Customers', icon: 'M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zm0 2c-4 0-8 2-8 5v1h16v-1c0-3-4-5-8-5z' },
  { href: '/segments', label: 'Segments', icon: 'M11 2v9H2a9 9 0 0 0 9 9 9 9 0 0 0 9-9h-9zm2-1v8h8a8 8 0 0 0-8-8z' },
  { href: '/journeys', label: 'Journeys', icon: 'M5 3a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm0 6v6h6v2a2 2 0 1 0 2 0v-2h4V9h-2v4H7V9zm14-6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z' },
  { href: '/templates', label: 'Templates', icon: 'M4 4h16v16H4zm2 2v3h12V6zm0 5v7h5v-7zm7 0v2h5v-2zm0 4v3h5v-3z' },
  { href: '/broadcasts', label: 'Broadcasts', icon: 'M3 10v4h3l5 4V6L6 10zm13.5 2a4.5 4.5 0 0 0-2.5-4v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z' },
  { href: '/settings', label: 'Settings', icon: 'M19.4 13a7.5 7.5 0 0 0 0-2l2.1-1.6-2-3.5-2.5 1a7.6 7.6 0 0 0-1.7-1L15 3h-4l-.4 2.6a7.6 7.6 0 0 0-1.7 1l-2.5-1-2 3.5L6.6 11a7.5 7.5 0 0 0 0 2l-2.1 1.6 2 3.5 2.5-1c.5.4 1.1.7 1.7 1L11 21h4l.4-2.6c.6-.3 1.2-.6 1.7-1l2.5 1 2-3.5zM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7z' },
];

function Icon({ d }: { d: string }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

function Routes() {
  const { path } = useLoc();
  let m: Record<string, string> | null;
  if (path === '/') return <Overview />;
  if (path === '/login' || path === '/setup') return <Loading rows={4} height={300} />;
  if (path === '/customers') return <Customers />;
  if ((m = match('/customers/:id', path))) return <Profile key={m.id} id={m.id} />;
  if (path === '/segments') return <Segments />;
  if (path === '/segments/new') return <SegmentEditor key="new" />;
  if ((m = match('/segments/:id', path))) return <SegmentEditor key={m.id} id={m.id} />;
  if (path === '/journeys') return <Journeys />;
  if (path === '/playbooks') return <Playbooks />;
  if ((m = match('/journeys/:id', path))) return <JourneyEditor key={m.id} id={m.id} />;
  if (path === '/templates') return <Templates />;
  if (path === '/templates/new') return <TemplateEdit key="new" />;
  if (path === '/templates/brand') return <Brand />;
  if ((m = match('/templates/:id/edit', path))) return <TemplateEdit key={m.id} id={m.id} />;
  if ((m = match('/templates/:id', path))) return <TemplateDetail key={m.id} id={m.id} />;
  if (path === '/broadcasts') return <Broadcasts />;
  if (path === '/broadcasts/new') return <BroadcastCompose key="new" />;
  if ((m = match('/broadcasts/:id/edit', path))) return <BroadcastCompose key={m.id} id={m.id} />;
  if ((m = match('/broadcasts/:id', path))) return <BroadcastDetail key={m.id} id={m.id} />;
  if (path === '/settings' || path.startsWith('/settings/')) return <SettingsPage tab={path.split('/')[2] ?? ''} />;
  return (
    <Page title="Not found">
      <p>
        There is no screen at <code>{path}</code>. <Link href="/">Go to the overview</Link>.
      </p>
    </Page>
  );
}

function Shell() {
  const s = useSession();
  const loc = useLoc();
  const [open, setOpen] = useState(false);
  const menuBtn = useRef<HTMLButtonElement>(null);
  const me = s.me!;
  useEffect(() => setOpen(false), [loc.path]);
  useEffect(() => {
    if (!open) return;
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        menuBtn.current?.focus();
      }
    };
    addEventListener('keydown', esc);
    return () => removeEventListener('keydown', esc);
  }, [open]);
  const section = '/' + (loc.path.split('/')[1] ?? '');
  const current = (href: string) => (href === '/' ? loc.path === '/' : section === href || (href === '/journeys' && section === '/playbooks'));
  const readOnly = !canWrite(me.role, 'segments');
  return (
    <div className={open ? 'shell menu-open' : 'shell'}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <div className="brand-row">
          <Link href="/" className="brand" aria-label="Omnia, overview">
            <span className="brand-mark" aria-hidden="true" />
            Omnia
          </Link>
          <button ref={menuBtn} type="button" className="menu-button" aria-expanded={open} aria-controls="nav-panel" onClick={() => setOpen((o) => !o)}>
            <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
              <path d={open ? 'M6 6l12 12M18 6L6 18' : 'M3 6h18M3 12h18M3 18h18'} stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
            </svg>
            <span>Menu</span>
          </button>
        </div>
        <div className="nav-panel" id="nav-panel">
          <nav aria-label="Main">
            <ul>
              {NAV.map((n) => (
                <li key={n.href}>
                  <Link href={n.href} aria-current={current(n.href) ? 'page' : undefined}>
                    <Icon d={n.icon} />
                    {n.label}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
          <div className="account">
            <div className="account-who">
              <span className="account-name" title={me.user.email}>
                {me.user.name || me.user.email}
              </span>
              <span className="role-badge" data-role={me.role ?? 'none'}>
                {me.role ?? 'no role'}
              </span>
            </div>
            {me.workspaces.length > 1 ? (
              <div className="field">
                <label htmlFor="ws-switch">Workspace</label>
                <select id="ws-switch" value={me.workspace?.id ?? ''} onChange={(e) => void s.switchWorkspace(e.target.value)}>
                  {me.workspaces.map((w) => (
                    <option key={w.id} value={w.id}>
                      {w.name} ({w.role})
                    </option>
                  ))}
                </select>
              </div>
            ) : (
              <div className="account-ws">{me.workspace?.name ?? 'no workspace'}</div>
            )}
            <button type="button" className="btn btn-ghost btn-block" onClick={() => void s.signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </aside>
      <main id="main" tabIndex={-1}>
        {readOnly ? (
          <div className="readonly-banner" role="note">
            {me.role === 'support'
              ? 'Your role is support: you can change customer profiles (consent, merges, GDPR); everything else is read-only.'
              : `Your role is ${me.role ?? 'none'}: the dashboard is read-only for you.`}
          </div>
        ) : null}
        <Suspense fallback={<Loading rows={6} height={400} />}>
          <Routes />
        </Suspense>
      </main>
    </div>
  );
}

function Gate() {
  const s = useSession();
  const loc = useLoc();
  const signedIn = s.state.status === 'signedIn';
  useEffect(() => {
    if (s.state.status === 'signedOut' && loc.path !== '/login' && loc.path !== '/setup') {
      const here = loc.path + (loc.query.toString() ? `?${loc.query}` : '');
      navigate(here === '/' ? '/login' : `/login?next=${encodeURIComponent(here)}`, { replace: true });
    }
    if (signedIn && (loc.path === '/login' || loc.path === '/setup')) {
      const next = loc.query.get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
    }
  }, [s.state.status, loc.path, loc.query, signedIn]);
  if (s.state.status === 'loading') return <div className="splash" aria-busy="true" aria-label="Loading Omnia" />;
  if (!signedIn) return <Login message={s.state.status === 'signedOut' ? s.state.message : undefined} />;
  return <Shell />;
}

export function App() {
  return (
    <RouterProvider>
      <SessionProvider>
        <ToastProvider>
          <ConfirmProvider>
            <Gate />
          </ConfirmProvider>
        </ToastProvider>
      </SessionProvider>
    </RouterProvider>
  );
}
