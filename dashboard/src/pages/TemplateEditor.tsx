// Placeholder: being built.
import { Page } from '../ui.tsx';

export function TemplateEditor({ id }: { id?: string }) {
  return <Page title="TemplateEditor">Coming soon.</Page>;
}
