// Placeholder: being built.
import { Page } from '../ui.tsx';

export function SettingsPage({ tab }: { tab: string }) {
  return <Page title="SettingsPage">Coming soon.</Page>;
}
