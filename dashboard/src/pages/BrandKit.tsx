// Placeholder: being built.
import { Page } from '../ui.tsx';

export function BrandKit() {
  return <Page title="BrandKit">Coming soon.</Page>;
}
