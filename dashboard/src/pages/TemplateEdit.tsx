// Placeholder: being built.
import { Page } from '../ui.tsx';

export function TemplateEdit({ id }: { id?: string }) {
  return <Page title="TemplateEdit">Coming soon.</Page>;
}
