// Placeholder: being built.
import { Page } from '../ui.tsx';

export function BroadcastCompose({ id }: { id?: string }) {
  return <Page title="BroadcastCompose">Coming soon.</Page>;
}
