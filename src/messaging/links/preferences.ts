// The preference centre (GET/POST /p/{token}): one checkbox per (marketing topic, channel), transactional topics
// shown always on and disabled, a "save" and an "unsubscribe from all marketing" button.
//
// Form fields: `sub:<channel>:<topic>=on` for each ticked box; `was:<channel>:<topic>=<state shown>` (hidden) for each
// box shown, so a save changes only what the person changed: a box left unticked that was never_asked stays
// never_asked, and a change made meanwhile in another tab is not overwritten by an untouched box. `op` is `save` (the
// default, first button: Enter submits it) or `unsubscribe_all`; `token` repeats the URL's token.
import { type Brand, escapeHtml, formOpen, hidden, layout, single } from './pages.ts';

export type PreferenceChannel = 'email' | 'sms' | 'push';
export type PreferenceState = 'subscribed' | 'unsubscribed' | 'never_asked';

export interface PreferenceTopic {
  id: string;
  label: string;
  description?: string;
  transactional: boolean;
}

export interface PreferenceChange {
  channel: PreferenceChannel;
  topic: string;
  state: 'subscribed' | 'unsubscribed';
}

export type PreferenceFormResult =
  | { ok: true; changes: PreferenceChange[]; unsubscribeAll: boolean }
  | { ok: false; error: string; fields: string[] };

const CHANNEL_LABEL: Record<PreferenceChannel, string> = { email: 'Email', sms: 'SMS', push: 'Push' };
const STATES: readonly PreferenceState[] = ['subscribed', 'unsubscribed', 'never_asked'];

/** Every digit but the last 3 becomes •: "+1 415 555 0123" → "+• ••• ••• •123". */
export function maskPhone(phone: string): string {
  let keep = 3;
  let out = '';
  for (let i = phone.length - 1; i >= 0; i--) {
    const c = phone[i]!;
    if (/[0-9]/.test(c)) out = (keep-- > 0 ? c : '•') + out;
    else out = c + out;
  }
  return out;
}

export function preferenceCentrePage(opts: {
  brand: Brand;
  token: string;
  person: { email?: string; phone?: string };
  topics: PreferenceTopic[];
  channels: PreferenceChannel[];
  state: (channel: PreferenceChannel, topic: string) => PreferenceState;
  saved?: boolean;
  /** Where the form posts; default: this page's own URL (/p/{token}). */
  action?: string;
}): string {
  const who = [
    opts.person.email ? `<strong>${escapeHtml(opts.person.email)}</strong>` : '',
    opts.person.phone ? `<strong>${escapeHtml(maskPhone(opts.person.phone))}</strong>` : '',
  ].filter(Boolean);
  const sets = opts.topics.map((topic, ti) => {
    const desc = topic.description ? `<p class="muted" id="topic-${ti}-desc">${escapeHtml(topic.description)}</p>\n` : '';
    const note = topic.transactional
      ? `<p class="muted" id="topic-${ti}-note">Always on: these messages are needed for your orders and account.</p>\n`
      : '';
    const described = [topic.description ? `topic-${ti}-desc` : '', topic.transactional ? `topic-${ti}-note` : '']
      .filter(Boolean)
      .join(' ');
    const boxes = opts.channels.map((channel, ci) => {
      const id = `pref-${ti}-${ci}`;
      const aria = `${CHANNEL_LABEL[channel]}: ${topic.label}`;
      const common = `type="checkbox" id="${id}" aria-label="${escapeHtml(aria)}"${described ? ` aria-describedby="${described}"` : ''}`;
      if (topic.transactional) {
        return `<label class="opt" for="${id}"><input ${common} checked disabled><span>${CHANNEL_LABEL[channel]}</span></label>`;
      }
      const field = `${channel}:${topic.id}`;
      const state = opts.state(channel, topic.id);
      const st = STATES.includes(state) ? state : 'never_asked';
      return `<label class="opt" for="${id}"><input ${common} name="${escapeHtml('sub:' + field)}" value="on"${
        st === 'subscribed' ? ' checked' : ''
      }><span>${CHANNEL_LABEL[channel]}</span></label>${hidden('was:' + field, st)}`;
    });
    return `<fieldset>
<legend>${escapeHtml(topic.label)}</legend>
${desc}${note}<div class="opts">
${boxes.join('\n')}
</div>
</fieldset>`;
  });
  const hasMarketing = opts.topics.some((t) => !t.transactional) && opts.channels.length > 0;
  const body = `${opts.saved ? '<div class="status" role="status">Your preferences have been saved.</div>\n' : ''}<h1>Your communication preferences</h1>
${who.length ? `<p>Choose what we send to ${who.join(' and ')}.</p>` : '<p>Choose what we send you.</p>'}
${formOpen(opts.action)}
${hidden('token', opts.token)}
${sets.join('\n')}
<div class="actions">
<button class="btn" type="submit" name="op" value="save">Save preferences</button>
${hasMarketing ? '<button class="btn secondary" type="submit" name="op" value="unsubscribe_all">Unsubscribe from all marketing</button>' : ''}
</div>
</form>`;
  return layout({ brand: opts.brand, title: 'Your communication preferences', body });
}

/**
 * Reads a posted preference form. Only fields this form writes are accepted: an unknown field, channel or topic, a
 * field for a transactional topic (they cannot be unsubscribed here) or a bad value is an error naming the fields.
 * `unsubscribe_all` unsubscribes every marketing topic on every given channel.
 */
export function parsePreferenceForm(
  body: Record<string, string | string[] | undefined>,
  topics: PreferenceTopic[],
  channels: PreferenceChannel[],
): PreferenceFormResult {
  const byId = new Map(topics.map((t) => [t.id, t]));
  const channelSet = new Set<string>(channels);
  const unknown: string[] = [];
  const transactional: string[] = [];
  const bad: string[] = [];
  const ticked = new Set<string>();
  const shown = new Map<string, PreferenceState>();
  let op = 'save';
  for (const [name, raw] of Object.entries(body)) {
    if (raw === undefined) continue;
    const value = single(raw);
    if (name === 'token') continue;
    if (name === 'op') {
      if (value === 'save' || value === 'unsubscribe_all') op = value;
      else bad.push(name);
      continue;
    }
    const kind = name.slice(0, 4);
    const rest = name.slice(4);
    const colon = rest.indexOf(':');
    const channel = rest.slice(0, colon);
    const topic = byId.get(rest.slice(colon + 1));
    if ((kind !== 'sub:' && kind !== 'was:') || colon < 0 || !channelSet.has(channel) || !topic) {
      unknown.push(name);
      continue;
    }
    if (topic.transactional) {
      transactional.push(name);
      continue;
    }
    const key = `${channel}:${topic.id}`;
    if (kind === 'sub:') {
      if (value === 'on') ticked.add(key);
      else bad.push(name);
    } else if (value !== undefined && (STATES as readonly string[]).includes(value)) {
      shown.set(key, value as PreferenceState);
    } else bad.push(name);
  }
  const errors: string[] = [];
  if (unknown.length) errors.push(`unknown fields: ${unknown.join(', ')}`);
  if (transactional.length) errors.push(`transactional topics cannot be changed: ${transactional.join(', ')}`);
  if (bad.length) errors.push(`bad values for: ${bad.join(', ')}`);
  if (errors.length) return { ok: false, error: errors.join('; '), fields: [...unknown, ...transactional, ...bad] };

  const changes: PreferenceChange[] = [];
  for (const topic of topics) {
    if (topic.transactional) continue;
    for (const channel of channels) {
      const key = `${channel}:${topic.id}`;
      if (op === 'unsubscribe_all') {
        changes.push({ channel, topic: topic.id, state: 'unsubscribed' });
        continue;
      }
      const was = shown.get(key);
      if (ticked.has(key)) {
        if (was !== 'subscribed') changes.push({ channel, topic: topic.id, state: 'subscribed' });
      } else if (was === 'subscribed') changes.push({ channel, topic: topic.id, state: 'unsubscribed' });
    }
  }
  return { ok: true, changes, unsubscribeAll: op === 'unsubscribe_all' };
}
