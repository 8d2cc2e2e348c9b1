// The composer's form state and its two-way mapping to the API's BroadcastInput (src/journeys/broadcasts.ts), and
// where on the form an API 400 belongs (its `field`, e.g. variants.1.templates.email or abTest.testShare).
// Inputs are passed to the API as typed, never silently fixed: the API is the one judge of what is valid, and its
// message is shown next to the field it names.

export const CHANNELS = ['email', 'sms', 'push', 'onsite', 'webhook', 'best'] as const;
export type Channel = (typeof CHANNELS)[number];
/** The channels a template can be for ('best' lets the arbiter choose among the variant's templates). */
export const TEMPLATE_CHANNELS = ['email', 'sms', 'push', 'onsite', 'webhook'] as const;
export const CHANNEL_LABEL: Record<Channel, string> = { email: 'Email', sms: 'SMS', push: 'Push', onsite: 'On-site', webhook: 'Webhook', best: 'Best channel per person' };

export const METRICS = ['opens', 'clicks', 'orders', 'revenue'] as const;
export type Metric = (typeof METRICS)[number];
export const METRIC_LABEL: Record<Metric, string> = { opens: 'Open rate', clicks: 'Click rate', orders: 'Orders per message', revenue: 'Revenue per message' };

export const UNITS = { minutes: 1, hours: 60, days: 1440 } as const;
export type Unit = keyof typeof UNITS;

export interface VariantForm {
  id: string;
  weight: string;
  templates: Partial<Record<(typeof TEMPLATE_CHANNELS)[number], string>>;
}

export interface BroadcastForm {
  name: string;
  channel: Channel;
  topic: string;
  segmentId: string;
  audience: 'snapshot' | 'live';
  when: 'now' | 'at' | 'local';
  /** a datetime-local value, in the browser's zone */
  at: string;
  date: string;
  localTime: string;
  throttle: string;
  priority: string;
  variants: VariantForm[];
  ab: boolean;
  /** percent of the audience in the test group */
  testShare: string;
  metric: Metric;
  after: string;
  afterUnit: Unit;
  products: string;
  categories: string;
}

export const newVariant = (taken: string[]): VariantForm => {
  const id = 'ABCDEFGH'.split('').find((l) => !taken.includes(l)) ?? `V${taken.length + 1}`;
  return { id, weight: '', templates: {} };
};

export const emptyForm = (): BroadcastForm => ({
  name: '',
  channel: 'email',
  topic: '',
  segmentId: '',
  audience: 'snapshot',
  when: 'now',
  at: '',
  date: '',
  localTime: '09:00',
  throttle: '',
  priority: '',
  variants: [newVariant([])],
  ab: false,
  testShare: '20',
  metric: 'clicks',
  after: '4',
  afterUnit: 'hours',
  products: '',
  categories: '',
});

/** A number when the text is one; the text itself otherwise (so the API names the field); undefined when blank. */
function numberOf(s: string, scale = 1): number | string | undefined {
  const t = s.trim();
  if (t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n * scale : t;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const pad = (n: number) => String(n).padStart(2, '0');
/** An instant as a datetime-local value in the browser's zone. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function toInput(f: BroadcastForm): Record<string, unknown> {
  const templatesOf = (v: VariantForm) => {
    if (f.channel !== 'best') {
      // The chosen channel's template only; '' when none is picked, so the API says that this variant needs one.
      return { [f.channel]: v.templates[f.channel] ?? '' };
    }
    return Object.fromEntries(Object.entries(v.templates).filter(([, id]) => id));
  };
  const out: Record<string, unknown> = {
    name: f.name,
    segmentId: f.segmentId,
    audience: f.audience,
    channel: f.channel,
    topic: f.topic,
    variants: f.variants.map((v) => {
      const w = numberOf(v.weight);
      return { id: v.id, templates: templatesOf(v), ...(w !== undefined ? { weight: w } : {}) };
    }),
  };
  const priority = numberOf(f.priority);
  if (priority !== undefined) out.priority = priority;
  if (f.when === 'at') {
    const d = f.at ? new Date(f.at) : null;
    out.schedule = { at: d && !Number.isNaN(d.getTime()) ? d.toISOString() : f.at };
  } else if (f.when === 'local') out.schedule = { date: f.date, localTime: f.localTime };
  const throttle = numberOf(f.throttle);
  if (throttle !== undefined) out.throttlePerMinute = throttle;
  if (f.ab) {
    const share = numberOf(f.testShare);
    const after = numberOf(f.after);
    out.abTest = {
      // Shown in percent, sent as the share (0 < share < 1).
      testShare: typeof share === 'number' ? share / 100 : (share ?? ''),
      metric: f.metric,
      afterMinutes: typeof after === 'number' ? after * UNITS[f.afterUnit] : (after ?? ''),
    };
  }
  const products = list(f.products);
  const categories = list(f.categories);
  if (products.length || categories.length) out.promotes = { ...(products.length ? { products } : {}), ...(categories.length ? { categories } : {}) };
  return out;
}

export function fromDefinition(d: any): BroadcastForm {
  const f = emptyForm();
  const after = Number(d.abTest?.afterMinutes ?? 240);
  const unit: Unit = after % 1440 === 0 ? 'days' : after % 60 === 0 ? 'hours' : 'minutes';
  return {
    ...f,
    name: d.name ?? '',
    channel: d.channel ?? 'email',
    topic: d.topic ?? '',
    segmentId: d.segmentId ?? '',
    audience: d.audience === 'live' ? 'live' : 'snapshot',
    when: d.schedule?.at ? 'at' : d.schedule?.localTime ? 'local' : 'now',
    at: d.schedule?.at ? toLocalInput(d.schedule.at) : '',
    date: d.schedule?.date ?? '',
    localTime: d.schedule?.localTime ?? f.localTime,
    throttle: d.throttlePerMinute != null ? String(d.throttlePerMinute) : '',
    priority: d.priority != null ? String(d.priority) : '',
    variants: (d.variants ?? []).length ? d.variants.map((v: any) => ({ id: v.id, weight: v.weight != null ? String(v.weight) : '', templates: { ...v.templates } })) : f.variants,
    ab: !!d.abTest,
    testShare: d.abTest ? String(Math.round(d.abTest.testShare * 10000) / 100) : f.testShare,
    metric: d.abTest?.metric ?? f.metric,
    after: d.abTest ? String(after / UNITS[unit]) : f.after,
    afterUnit: d.abTest ? unit : f.afterUnit,
    products: (d.promotes?.products ?? []).join(', '),
    categories: (d.promotes?.categories ?? []).join(', '),
  };
}

/**
 * The place on the form for an API error field: one of the form's own slots, or null (shown above the form).
 * variants.N.templates without a channel goes to the variant's template of the broadcast's channel.
 */
export function slotOf(field: string | undefined, channel: Channel): string | null {
  if (!field) return null;
  if (['name', 'segmentId', 'audience', 'channel', 'topic', 'priority', 'throttlePerMinute'].includes(field)) return field;
  if (/^schedule\.(at|localTime|date)$/.test(field)) return field;
  if (field.startsWith('schedule')) return 'schedule';
  if (/^abTest\.(testShare|metric|afterMinutes)$/.test(field)) return field;
  if (field.startsWith('abTest')) return 'abTest';
  let m = /^variants\.(\d+)\.(id|weight)$/.exec(field);
  if (m) return `variants.${m[1]}.${m[2]}`;
  m = /^variants\.(\d+)\.templates(?:\.(\w+))?/.exec(field);
  if (m) return `variants.${m[1]}.templates.${m[2] ?? (channel === 'best' ? 'email' : channel)}`;
  if (field.startsWith('variants')) return 'variants';
  m = /^promotes\.(products|categories)/.exec(field);
  if (m) return `promotes.${m[1]}`;
  if (field.startsWith('promotes')) return 'promotes.products';
  return null;
}

/** The id of the control for a slot (to focus it when the API names it). */
export function controlOf(slot: string): string {
  const fixed: Record<string, string> = {
    name: 'bc-name', segmentId: 'bc-segment', audience: 'bc-aud-snapshot', channel: 'bc-channel', topic: 'bc-topic', priority: 'bc-priority', throttlePerMinute: 'bc-throttle',
    schedule: 'bc-when-now', 'schedule.at': 'bc-at', 'schedule.date': 'bc-date', 'schedule.localTime': 'bc-localtime',
    abTest: 'bc-ab', 'abTest.testShare': 'bc-share', 'abTest.metric': 'bc-metric', 'abTest.afterMinutes': 'bc-after',
    variants: 'bc-add-variant', 'promotes.products': 'bc-products', 'promotes.categories': 'bc-categories',
  };
  if (fixed[slot]) return fixed[slot]!;
  const m = /^variants\.(\d+)\.(id|weight|templates\.(\w+))$/.exec(slot);
  if (m) return m[3] ? `bc-v${m[1]}-tpl-${m[3]}` : `bc-v${m[1]}-${m[2]}`;
  return 'bc-name';
}

/** The API speaks in shares (0–1); the form in percent: say so where the two meet. */
export function explain(slot: string, message: string): string {
  if (slot === 'abTest.testShare') return `The test group must be more than 0 % and less than 100 % of the audience (${message})`;
  if (slot === 'abTest.afterMinutes') return `Pick the winner after more than 0 and at most 30 days (${message})`;
  return message;
}
