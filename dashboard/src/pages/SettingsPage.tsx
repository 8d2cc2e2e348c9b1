// Settings: channel providers, messaging policy (quiet hours, frequency caps), API keys and users, as tabs that are
// links (/settings/<tab>; /settings is the channels tab).
import { Link } from '../router.tsx';
import { Page } from '../ui.tsx';
import { ChannelsTab } from '../admin/Channels.tsx';
import { PolicyTab } from '../admin/Policy.tsx';
import { KeysTab } from '../admin/Keys.tsx';
import { UsersTab } from '../admin/Users.tsx';

const TABS = [
  { id: 'channels', label: 'Channels' },
  { id: 'policy', label: 'Policy' },
  { id: 'keys', label: 'API keys' },
  { id: 'users', label: 'Users' },
] as const;

export function SettingsPage({ tab }: { tab: string }) {
  const current = TABS.find((t) => t.id === tab) ?? TABS[0];
  return (
    <Page title="Settings" subtitle="Channel providers, sending policy, API keys and the people of this workspace">
      <nav className="settings-tabs" aria-label="Settings sections">
        {TABS.map((t) => (
          <Link key={t.id} href={`/settings/${t.id}`} aria-current={t.id === current.id ? 'page' : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      {current.id === 'channels' ? <ChannelsTab /> : current.id === 'policy' ? <PolicyTab /> : current.id === 'keys' ? <KeysTab /> : <UsersTab />}
    </Page>
  );
}
