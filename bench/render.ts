// render: templates rendered per second by renderTemplate, for (1) an MJML email with a personalised greeting and
// five product blocks (the built-in product_card partial) and (2) an SMS. Same-run baseline: liquidjs alone
// rendering the same Liquid with the same instance options (strict variables, limits, the same partials), the
// template PRE-PARSED once and each person's variables built once up front — i.e. the floor cost of the Liquid
// itself, without scope building, slot escaping, layout, MJML, the text part or the fill. For the email the baseline
// outputs MJML text, Omnia a complete HTML + text email; the third row shows Omnia with the MJML compile memo off.
//
// Rounds alternate baseline, omnia, baseline, …; figures are medians. Standalone:
//   node --import tsx -e "import('./bench/render.ts').then(m => m.benchRender({rounds: 3}))"
import { Liquid, type Template } from 'liquidjs';
import { DEFAULT_BRAND_KIT, renderTemplate, type BrandKit, type RenderContext, type TemplateSource } from '../src/messaging/templates/index.ts';
import { BUILTIN_BLOCKS } from '../src/messaging/templates/blocks.ts';
import { configureRenderCache } from '../src/messaging/templates/cache.ts';
import { buildScope } from '../src/messaging/templates/context.ts';
import { liquidOptions } from '../src/messaging/templates/engine.ts';
import { date, money } from '../src/messaging/templates/filters.ts';
import { fmtInt, fmtRatio, log, median, table } from './lib/common.ts';

const PEOPLE = 200;
const NAMES = ['Ann', 'Bob', 'Chloé', 'Dev', 'Eun-ji', 'Farah', 'Gus', 'Hana'];

const brand: BrandKit = { ...DEFAULT_BRAND_KIT, name: 'Acme', logoUrl: 'https://cdn.example.com/logo.png', address: '1 High Street, London N1 1AA', footerText: 'You signed up at acme.example.' };

const EMAIL_MJML = `<mj-section><mj-column>
  <mj-text font-size="20px">Hi {{ profile.first_name | default: "there" }}, picked for you</mj-text>
  <mj-text>Because you looked at {{ event.properties.category | default: "our range" }}.</mj-text>
</mj-column></mj-section>
{% for item in items limit: 5 %}{% render 'product_card', product: item %}{% endfor %}`;

const EMAIL: TemplateSource = { channel: 'email', subject: '{{ profile.first_name | default: "Hey" }}, 5 picks for you', preheader: 'New in {{ event.properties.category | default: "store" }}', mjml: EMAIL_MJML };
const SMS_BODY = 'Hi {{ profile.first_name | default: "there" }}! Your order {{ event.properties.order_id }} ships today. Track: https://acme.example/t/{{ event.properties.order_id | url_encode }}';
const SMS: TemplateSource = { channel: 'sms', body: SMS_BODY };

function people(): RenderContext[] {
  return Array.from({ length: PEOPLE }, (_, i) => ({
    profile: { id: `p${i}`, email: `u${i}@example.com`, traits: { first_name: `${NAMES[i % NAMES.length]} ${i}` }, timeZone: 'Europe/London' },
    event: { name: 'Viewed Product', properties: { category: i % 2 ? 'shoes' : 'bags', order_id: `A-${1000 + i}` } },
    links: { unsubscribeUrl: `https://omnia.example/u/${i}`, preferencesUrl: `https://omnia.example/p/${i}` },
    message: { id: `m${i}` },
    items: Array.from({ length: 5 }, (_, k) => ({ title: `Product ${(i + k) % 40}`, url: `https://shop.example/p/${(i + k) % 40}`, image_url: `https://cdn.example.com/p${(i + k) % 40}.png`, price: 1000 + 250 * ((i + k) % 40), currency: 'GBP' })),
  }));
}

/** liquidjs alone, same options and filters, HTML-escaping outputs with its own `escape` (or none for SMS). */
function baselineLiquid(escape: boolean): Liquid {
  const l = new Liquid({ ...liquidOptions({ ...BUILTIN_BLOCKS }), ...(escape ? { outputEscape: 'escape' as const } : {}) });
  l.registerFilter('money', money);
  l.registerFilter('date', date);
  return l;
}

async function timed(seconds: number, once: (i: number) => Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  let n = 0;
  while (performance.now() < end) {
    await once(n);
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

interface Case {
  name: string;
  baseline: (i: number) => Promise<unknown>;
  omnia: (i: number) => Promise<unknown>;
  setup?: () => void;
  teardown?: () => void;
}

export async function benchRender(opts: { rounds: number; seconds?: number }): Promise<void> {
  const rounds = Math.max(1, Math.round(opts.rounds));
  const seconds = opts.seconds ?? 2;
  const ctxs = people();
  const scopes = ctxs.map((c) => buildScope(c, brand));
  const html = baselineLiquid(true);
  const text = baselineLiquid(false);
  const mjmlTpl: Template[] = html.parse(EMAIL_MJML);
  const smsTpl: Template[] = text.parse(SMS_BODY);
  const ro = { brand, partials: {} };
  const baseEmail = (i: number) => html.render(mjmlTpl, {}, { globals: scopes[i % PEOPLE] });
  const baseSms = (i: number) => text.render(smsTpl, {}, { globals: scopes[i % PEOPLE] });
  const cases: Case[] = [
    { name: 'email: MJML, greeting + 5 product_card', baseline: baseEmail, omnia: (i) => renderTemplate(EMAIL, ctxs[i % PEOPLE]!, ro) },
    { name: 'sms', baseline: baseSms, omnia: (i) => renderTemplate(SMS, ctxs[i % PEOPLE]!, ro) },
    {
      name: 'email, MJML compile memo off',
      baseline: baseEmail,
      omnia: (i) => renderTemplate(EMAIL, ctxs[i % PEOPLE]!, ro),
      setup: () => configureRenderCache({ enabled: false }),
      teardown: () => configureRenderCache({ enabled: true }),
    },
  ];

  // Sanity: both sides render, and the email really is personalised.
  const a = await renderTemplate(EMAIL, ctxs[0]!, ro);
  const b = await renderTemplate(EMAIL, ctxs[1]!, ro);
  if (JSON.stringify(a) === JSON.stringify(b) || a.content.channel !== 'email') throw new Error('render bench: email not personalised');
  log(`render: ${PEOPLE} people; email HTML ${fmtInt(a.content.email.html.length)} bytes, text ${fmtInt(a.content.email.text.length)} bytes; warm-up`);
  for (const c of cases) {
    c.setup?.();
    await timed(0.3, c.baseline);
    await timed(0.3, c.omnia);
    c.teardown?.();
  }

  const rows: string[][] = [];
  for (const c of cases) {
    const base: number[] = [];
    const om: number[] = [];
    for (let k = 0; k < rounds; k++) {
      base.push(await timed(seconds, c.baseline));
      c.setup?.();
      om.push(await timed(seconds, c.omnia));
      c.teardown?.();
      log(`  ${c.name} round ${k + 1}/${rounds}: liquid ${fmtInt(base.at(-1)!)}/s, omnia ${fmtInt(om.at(-1)!)}/s`);
    }
    const mb = median(base);
    const mo = median(om);
    rows.push([c.name, fmtInt(mb), fmtInt(mo), fmtRatio(mo / mb), `${(1000 / mo).toFixed(3)} ms`]);
  }
  console.log(
    [
      `render: renderTemplate per second, one render at a time, ${PEOPLE} different people in turn; medians of ${rounds} alternating rounds of ${seconds} s`,
      'baseline = liquidjs alone, same options and partials, template pre-parsed once, variables built once per person',
      '(email baseline produces MJML text; Omnia produces the full HTML and text email)',
      '',
      table(['', 'liquid only /s', 'omnia /s', 'ratio', 'omnia per render'], rows),
    ].join('\n'),
  );
}
