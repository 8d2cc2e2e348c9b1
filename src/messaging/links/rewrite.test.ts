import mjml2html from 'mjml';
import { describe, expect, it } from 'vitest';
import { decodeEntities, scanHtml } from './html.ts';
import { instrumentEmailHtml, instrumentText, trackableUrl } from './rewrite.ts';
import { deriveLinkKey, signToken, verifyToken } from './tokens.ts';
import { clickUrl, openPixelUrl, unsubscribeUrl } from './urls.ts';

const PUB = 'https://omnia.example';
const PIXEL = `${PUB}/t/o/PIXELTOKEN.gif`;
const key = deriveLinkKey(Buffer.alloc(32, 1), 'ws_a');

/** A recording clickUrl: "https://omnia.example/t/c/<index>" (not a real token, so links stay readable). */
function recorder() {
  const seen: string[] = [];
  const fn = (url: string, i: number) => {
    seen.push(url);
    return `${PUB}/t/c/L${i}?a=1&b=2`;
  };
  return { seen, fn };
}

function instrument(html: string, opts: { pixel?: boolean; publicUrl?: string } = {}) {
  const r = recorder();
  const out = instrumentEmailHtml(html, {
    clickUrl: r.fn,
    ...(opts.pixel === false ? {} : { pixelUrl: PIXEL }),
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
  });
  return { out, seen: r.seen };
}

const T = (i: number) => `"${PUB}/t/c/L${i}?a=1&amp;b=2"`;

describe('instrumentEmailHtml', () => {
  it.each<[string, string, string[], string]>([
    ['double quotes', '<a href="https://x.example/a">x</a>', ['https://x.example/a'], `<a href=${T(0)}>x</a>`],
    ['single quotes', "<a href='https://x.example/a'>x</a>", ['https://x.example/a'], `<a href=${T(0)}>x</a>`],
    ['unquoted', '<a href=https://x.example/a/b>x</a>', ['https://x.example/a/b'], `<a href=${T(0)}>x</a>`],
    ['uppercase', '<A HREF="HTTPS://X.example/A">x</A>', ['HTTPS://X.example/A'], `<A HREF=${T(0)}>x</A>`],
    [
      'line breaks and spaces inside the tag',
      '<a\n  class="btn"\n  href = \n"https://x.example/?q=1&amp;r=2"\n  target="_blank"\n>x</a>',
      ['https://x.example/?q=1&r=2'],
      `<a\n  class="btn"\n  href = \n${T(0)}\n  target="_blank"\n>x</a>`,
    ],
    ['entities', '<a href="https://x.example/?a=1&amp;b=&#50;&#x33;&quot;">x</a>', ['https://x.example/?a=1&b=23"'], `<a href=${T(0)}>x</a>`],
    ['> inside a quoted attribute', '<a title="a > b" href="https://x.example/">x</a>', ['https://x.example/'], `<a title="a > b" href=${T(0)}>x</a>`],
    ['href inside another attribute value', '<a title=\'href="https://no.example/"\' href="https://x.example/">x</a>', ['https://x.example/'], `<a title='href="https://no.example/"' href=${T(0)}>x</a>`],
    ['first of duplicate hrefs', '<a href="https://x.example/1" href="https://x.example/2">x</a>', ['https://x.example/1'], `<a href=${T(0)} href="https://x.example/2">x</a>`],
    ['whitespace around the URL', '<a href="  https://x.example/a\n">x</a>', ['https://x.example/a'], `<a href=${T(0)}>x</a>`],
    ['self-closing area', '<area shape="rect" href="https://x.example/m"/>', ['https://x.example/m'], `<area shape="rect" href=${T(0)}/>`],
    ['http', '<a href="http://x.example/">x</a>', ['http://x.example/'], `<a href=${T(0)}>x</a>`],
  ])('rewrites: %s', (_n, html, urls, want) => {
    const { out, seen } = instrument(html, { pixel: false });
    expect(seen).toEqual(urls);
    expect(out).toBe(want);
  });

  it.each([
    ['mailto', '<a href="mailto:hi@shop.example">x</a>'],
    ['tel', '<a href="tel:+14155550123">x</a>'],
    ['anchor', '<a href="#top">x</a>'],
    ['relative', '<a href="/account">x</a>'],
    ['protocol-relative', '<a href="//x.example/">x</a>'],
    ['javascript', '<a href="javascript:alert(1)">x</a>'],
    ['entity-obfuscated scheme', '<a href="javascript&colon;alert(1)">x</a>'],
    ['empty', '<a href="">x</a>'],
    ['bare', '<a href>x</a>'],
    ['no href', '<a name="top">x</a>'],
    ['data-omnia="unsubscribe"', '<a data-omnia="unsubscribe" href="https://shop.example/unsub">x</a>'],
    ['data-omnia="preferences"', "<a data-omnia='preferences' href=\"https://shop.example/prefs\">x</a>"],
    ['data-omnia-notrack', '<a href="https://x.example/" data-omnia-notrack>x</a>'],
    ['DATA-OMNIA-NOTRACK', '<a HREF="https://x.example/" DATA-OMNIA-NOTRACK="">x</a>'],
    ['link in a comment', '<!-- <a href="https://x.example/">x</a> -->'],
    ['link-like text in a style', '<style>a[href="https://x.example/"]{color:red} <a href="https://x.example/"></style>'],
    ['link-like text in a script', '<script>document.write(\'<a href="https://x.example/">\')</script>'],
    ['link-like text in a title', '<title><a href="https://x.example/"></title>'],
    ['a link on an element that is not a or area', '<link href="https://fonts.example/css" rel="stylesheet"><abbr href="https://x.example/">'],
    ['text that looks like a tag', 'a < b and 3<4 <a'],
    ['unterminated tag', '<a href="https://x.example/'],
  ])('leaves alone: %s', (_n, html) => {
    const { out, seen } = instrument(html, { pixel: false });
    expect(seen).toEqual([]);
    expect(out).toBe(html);
  });

  it('leaves unsubscribe, preference and tracked links alone (by publicUrl prefix or by token shape)', () => {
    const tok = signToken(key, 'unsubscribe', { ws: 'ws_a', p: 'x' });
    const html = [
      `<a href="${unsubscribeUrl(PUB, tok)}">u</a>`,
      `<a href="${PUB}/p/${tok}">p</a>`,
      `<a href="${clickUrl(PUB, tok)}">c</a>`,
      `<a href="${PUB}/u/not-a-token">other</a>`,
    ].join('');
    // Under publicUrl every /u/… is Omnia's route; without it only a structurally valid token counts.
    expect(instrument(html, { pixel: false, publicUrl: PUB }).seen).toEqual([]);
    expect(instrument(html, { pixel: false }).seen).toEqual([`${PUB}/u/not-a-token`]);
    // A shop's own /p/ product path is tracked.
    expect(instrument('<a href="https://shop.example/p/blue-shirt">x</a>', { pixel: false }).seen).toHaveLength(1);
  });

  it('scans inside Outlook conditional comments but not ordinary comments', () => {
    const html =
      '<!--[if mso]><a href="https://x.example/outlook">o</a><![endif]-->' +
      '<!--[if !mso]><!--><a href="https://x.example/others">x</a><!--<![endif]-->' +
      '<!-- <a href="https://x.example/comment"> --><!----><!---->' +
      '<a href="https://x.example/after">y</a>';
    expect(instrument(html, { pixel: false }).seen).toEqual([
      'https://x.example/outlook',
      'https://x.example/others',
      'https://x.example/after',
    ]);
  });

  it('puts the pixel just before the last </body>, or at the end', () => {
    const { out } = instrument('<html><body><p>Hi</p></BODY >\n</html>');
    expect(out).toMatch(/<p>Hi<\/p><img src="https:\/\/omnia\.example\/t\/o\/PIXELTOKEN\.gif" width="1" height="1" alt=""[^>]*data-omnia="open"[^>]*\/><\/BODY >\n<\/html>$/);
    expect(instrument('<p>fragment</p>').out).toMatch(/^<p>fragment<\/p><img src="[^"]+PIXELTOKEN\.gif"/);
    // A "</body>" inside a comment or a script is not the end of the body.
    const tricky = instrument('<body>x<script>"</body>"</script><!-- </body> --></body>').out;
    expect(tricky).toMatch(/<!-- <\/body> --><img [^>]+><\/body>$/);
  });

  it('escapes the pixel and click URLs into the attribute', () => {
    const out = instrumentEmailHtml('<a href="https://x.example/">x</a></body>', {
      clickUrl: () => 'https://o.example/t/c/a?x="1"&y=<2>',
      pixelUrl: 'https://o.example/t/o/a.gif?x="1"&y=2',
    });
    expect(out).toBe(
      '<a href="https://o.example/t/c/a?x=&quot;1&quot;&amp;y=&lt;2&gt;">x</a>' +
        '<img src="https://o.example/t/o/a.gif?x=&quot;1&quot;&amp;y=2" width="1" height="1" alt="" border="0" data-omnia="open" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0;overflow:hidden;opacity:0" /></body>',
    );
  });

  it('is idempotent with real tokens: instrumenting twice changes nothing more', () => {
    const html = '<html><body><a href="https://shop.example/a?x=1&amp;y=2">a</a> <a href="https://shop.example/b">b</a></body></html>';
    const opts = {
      clickUrl: (u: string, i: number) => clickUrl(PUB, signToken(key, 'click', { ws: 'ws_a', m: 'm1', u, i })),
      pixelUrl: openPixelUrl(PUB, signToken(key, 'open', { ws: 'ws_a', m: 'm1' })),
    };
    const once = instrumentEmailHtml(html, opts);
    expect(instrumentEmailHtml(once, opts)).toBe(once);
    expect(instrumentEmailHtml(once, { ...opts, publicUrl: PUB })).toBe(once);
    expect(once.match(/<img /g)).toHaveLength(1);
    // The signed destination is the decoded URL.
    const token = /\/t\/c\/([A-Za-z0-9_-]+)/.exec(once)![1]!;
    const r = verifyToken(key, 'click', token, 0);
    expect(r.ok && r.payload.u).toBe('https://shop.example/a?x=1&y=2');
  });

  it('instruments real MJML output', async () => {
    const { html } = await mjml2html(
      `<mjml><mj-body><mj-section><mj-column>
        <mj-text>Hello <a href="https://shop.example/a?x=1&amp;y=2">link</a> and <a href="mailto:help@shop.example">mail</a></mj-text>
        <mj-button href="https://shop.example/buy?utm_source=omnia&amp;utm_medium=email">Buy</mj-button>
        <mj-image src="https://cdn.example/i.png" href="https://shop.example/img"></mj-image>
        <mj-text><a href="https://omnia.example/u/TOKEN" data-omnia="unsubscribe">Unsubscribe</a>
          <a href="https://shop.example/privacy" data-omnia-notrack>Privacy</a></mj-text>
      </mj-column></mj-section></mj-body></mjml>`,
      { validationLevel: 'soft' },
    );
    const { out, seen } = instrument(html);
    expect(seen).toEqual([
      'https://shop.example/a?x=1&y=2',
      'https://shop.example/buy?utm_source=omnia&utm_medium=email',
      'https://shop.example/img',
    ]);
    expect(out).toContain('href="mailto:help@shop.example"');
    expect(out).toContain('href="https://omnia.example/u/TOKEN"');
    expect(out).toContain('href="https://shop.example/privacy"');
    expect(out).not.toContain('href="https://shop.example/a');
    // Stylesheet links in the head and image sources are untouched; the pixel ends the body.
    expect(out).toContain('<link href="https://fonts.googleapis.com/');
    expect(out).toContain('src="https://cdn.example/i.png"');
    expect(out).toMatch(/data-omnia="open"[^>]*\/>\s*<\/body>/);
    // Only the hrefs and the pixel changed.
    const strip = (s: string) => s.replace(/href="[^"]*"/g, 'href').replace(/<img src="[^"]*PIXELTOKEN[^>]*>/, '');
    expect(strip(out)).toBe(strip(html));
  });
});

describe('HTML scanner', () => {
  it('reports attributes with positions and decoded values', () => {
    const html = `<A Href='x&amp;y' data-x=1 checked\n title="a&quot;b">`;
    const tags: { name: string; attrs: [string, string][] }[] = [];
    scanHtml(html, (t) => tags.push({ name: t.name, attrs: t.attrs.map((a) => [a.name, a.value]) }));
    expect(tags).toEqual([{ name: 'a', attrs: [['href', 'x&y'], ['data-x', '1'], ['checked', ''], ['title', 'a"b']] }]);
  });

  it.each([
    ['&amp;', '&'],
    ['&AMP;', '&AMP;'],
    ['a&amp=1', 'a&amp=1'],
    ['a&amp b', 'a& b'],
    ['&#38;&#x26;&#X26', '&&&'],
    ['&#0;&#xD800;&#x110000;', '\ufffd\ufffd\ufffd'],
    ['&copy;&unknown;&', '©&unknown;&'],
    ['&colon;&sol;&sol;', '://'],
    ['&lt;&gt;&quot;&apos;&nbsp;', '<>"\'\u00a0'],
  ])('decodes %s', (s, want) => {
    expect(decodeEntities(s)).toBe(want);
  });

  it('trackableUrl accepts only absolute http(s) URLs', () => {
    expect(trackableUrl(' https://x.example/a\tb ')).toBe('https://x.example/ab');
    expect(trackableUrl('https://')).toBeNull();
    expect(trackableUrl('https:///path')).toBeNull();
    expect(trackableUrl('ftp://x.example')).toBeNull();
  });
});

describe('instrumentText', () => {
  const fn = (u: string, i: number) => `[${i}:${u}]`;
  it.each([
    ['Shop now: https://x.example/a?b=c&d=e', 'Shop now: [0:https://x.example/a?b=c&d=e]'],
    ['See https://x.example/a. Or http://y.example/b, ok?', 'See [0:https://x.example/a]. Or [1:http://y.example/b], ok?'],
    ['(see https://x.example/a)', '(see [0:https://x.example/a])'],
    ['wiki https://x.example/A_(b)!', 'wiki [0:https://x.example/A_(b)]!'],
    ['Buy [https://x.example/buy]', 'Buy [[0:https://x.example/buy]]'],
    ['<https://x.example/a>', '<[0:https://x.example/a]>'],
    ['"https://x.example/q"', '"[0:https://x.example/q]"'],
    ['line1\nhttps://x.example/\nline3', 'line1\n[0:https://x.example/]\nline3'],
    ['mailto:a@b.example and www.x.example and ftp://x.example', 'mailto:a@b.example and www.x.example and ftp://x.example'],
    ['xhttps://x.example', 'xhttps://x.example'],
    ['https:// nothing', 'https:// nothing'],
  ])('%j', (text, want) => {
    expect(instrumentText(text, fn)).toBe(want);
  });

  it('skips Omnia links and what skip() says', () => {
    const tok = signToken(key, 'unsubscribe', { ws: 'ws_a' });
    const u = unsubscribeUrl(PUB, tok);
    const text = `Hi https://x.example/a\nUnsubscribe: ${u}\nPrivacy: https://x.example/privacy`;
    expect(instrumentText(text, fn, { skip: (x) => x.endsWith('/privacy') })).toBe(
      `Hi [0:https://x.example/a]\nUnsubscribe: ${u}\nPrivacy: https://x.example/privacy`,
    );
  });
});
