// Placeholder: being built.
import { Page } from '../ui.tsx';

export function Brand() {
  return <Page title="Brand">Coming soon.</Page>;
}
