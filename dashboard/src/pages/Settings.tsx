// Placeholder: being built.
import { Page } from '../ui.tsx';

export function Settings({ tab }: { tab: string }) {
  return <Page title="Settings">Coming soon.</Page>;
}
