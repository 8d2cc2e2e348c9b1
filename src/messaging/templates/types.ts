// The templates module's own shapes: what a template is made of per channel, what it is rendered against, and the
// errors it reports. The rendered result is the shared RenderedContent of ../types.ts.

export type TemplateChannel = 'email' | 'sms' | 'push' | 'onsite' | 'webhook';

export type TemplateSource =
  /** Exactly one of mjml / html. */
  | { channel: 'email'; subject: string; preheader?: string; mjml?: string; html?: string; text?: string }
  | { channel: 'sms'; body: string }
  | { channel: 'push'; title: string; body: string; icon?: string; url?: string }
  | { channel: 'onsite'; kind: 'banner' | 'modal'; title: string; body: string; url?: string }
  /** Liquid producing JSON. */
  | { channel: 'webhook'; body: string };

/** One problem in one field; line and column (1-based) point into that field's text when known. */
export interface FieldError {
  field: string;
  message: string;
  line?: number;
  column?: number;
}

export interface RenderContext {
  profile: { id: string; email?: string | null; phone?: string | null; traits: Record<string, unknown>; timeZone?: string | null };
  event?: { name: string; properties: Record<string, unknown>; timestamp?: number } | null;
  computed?: Record<string, unknown>;
  /** Catalog items (products) for product blocks. */
  items?: Record<string, unknown>[];
  links?: { unsubscribeUrl?: string; preferencesUrl?: string; viewInBrowserUrl?: string };
  message?: { id: string };
}

/** A render-time failure: a missing variable, a limit hit, output that is not what the channel needs. */
export class RenderError extends Error {
  field: string;
  line?: number;
  column?: number;
  /** The variable that was missing (strict variables), as written: "profile.traits.first_name". */
  variable?: string;

  constructor(field: string, message: string, extra: { line?: number; column?: number; variable?: string } = {}) {
    super(`${field}: ${message}`);
    this.name = 'RenderError';
    this.field = field;
    if (extra.line !== undefined) this.line = extra.line;
    if (extra.column !== undefined) this.column = extra.column;
    if (extra.variable !== undefined) this.variable = extra.variable;
  }
}
