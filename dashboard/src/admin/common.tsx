// Shared bits of the Settings screens: field-error matching (the API names fields as caps[0].max or caps.0.max),
// the owner-only note, and the stylesheet of these screens.
import { ApiError, messageOf } from '../api.ts';
import './settings.css';

/** caps[0].max → caps.0.max, so either spelling of the API's field matches. */
export const normField = (f: string | undefined | null) => (f ?? '').replace(/\[(\d+)\]/g, '.$1').replace(/^\./, '');

/** The API's message without its leading "field: " (shown next to the field already). */
export function fieldMessage(e: unknown): string {
  const m = messageOf(e);
  if (e instanceof ApiError && e.field) {
    const f = e.field;
    for (const p of [f, normField(f)]) if (m.startsWith(`${p}: `)) return m.slice(p.length + 2);
  }
  return m;
}

/** An API error kept with its normalised field: errorFor('caps.0.max') gives the message for that field or null. */
export interface FormError {
  error: unknown;
  field: string;
}
export const formError = (e: unknown): FormError => ({ error: e, field: e instanceof ApiError ? normField(e.field) : '' });
export const errorFor = (fe: FormError | null, field: string) => (fe && fe.field && fe.field === field ? fieldMessage(fe.error) : null);
/** The error belongs to none of the given fields: show it at the form's top. */
export const unplaced = (fe: FormError | null, fields: string[]) => (fe && !(fe.field && fields.includes(fe.field)) ? fe.error : null);

export function OwnerOnly({ what }: { what: string }) {
  return (
    <p className="notice notice-info owner-only" role="note">
      Only owners can change {what}. Ask an owner of this workspace.
    </p>
  );
}
