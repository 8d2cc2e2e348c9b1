// A small HTML scanner: just enough of the HTML5 tokenizer to find start tags and their attributes (with exact
// source positions) in email HTML, skipping comments, doctypes, CDATA and the raw text of <script>/<style>/
// <title>/<textarea>. Outlook conditional comments (`<!--[if mso]> … <![endif]-->`) are scanned inside, since
// Outlook renders what they hold. Also the entity decoding and attribute encoding the rewriter needs.

export interface Attr {
  /** Lower-cased name. */
  name: string;
  /** Decoded value ('' for a bare attribute). */
  value: string;
  /** Source span of the value including its quotes; start === end for a bare attribute. */
  valueStart: number;
  valueEnd: number;
}

export interface StartTag {
  /** Lower-cased tag name. */
  name: string;
  start: number;
  /** Index just past the closing `>`. */
  end: number;
  attrs: Attr[];
}

export interface EndTag {
  name: string;
  start: number;
  end: number;
}

const RAW_TEXT = new Set(['script', 'style', 'title', 'textarea', 'xmp', 'noembed', 'noframes']);
const SPACE = /[\t\n\f\r ]/;

/** Calls onStart for each start tag and onEnd for each end tag, in document order. */
export function scanHtml(html: string, onStart: (t: StartTag) => void, onEnd?: (t: EndTag) => void): void {
  const n = html.length;
  let i = 0;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) return;
    const c = html[lt + 1];
    if (c === undefined) return;
    if (html.startsWith('<!--', lt)) {
      if (html.startsWith('<!-->', lt) || html.startsWith('<!--->', lt)) {
        i = html.indexOf('>', lt) + 1; // abruptly closed empty comment, as in MJML's `<!--[if !mso]><!-->`
        continue;
      }
      // Downlevel-hidden conditional comment: skip just its opener; the content is HTML for Outlook.
      if (/^<!--\[if[^\]]*\]>/i.test(html.slice(lt, lt + 200))) {
        i = html.indexOf(']>', lt) + 2;
        continue;
      }
      const close = html.indexOf('-->', lt + 4);
      i = close < 0 ? n : close + 3;
      continue;
    }
    if (c === '!' || c === '?') {
      // <!DOCTYPE …>, <![CDATA[ … ]]>, <![endif]-->, <?xml …?>
      if (html.startsWith('<![CDATA[', lt)) {
        const close = html.indexOf(']]>', lt);
        i = close < 0 ? n : close + 3;
      } else {
        const close = html.indexOf('>', lt);
        i = close < 0 ? n : close + 1;
      }
      continue;
    }
    if (c === '/') {
      const m = /^<\/([A-Za-z][^\t\n\f\r />]*)/.exec(html.slice(lt, lt + 64));
      const close = html.indexOf('>', lt);
      if (close < 0) return;
      if (m && onEnd) onEnd({ name: m[1]!.toLowerCase(), start: lt, end: close + 1 });
      i = close + 1;
      continue;
    }
    if (!/[A-Za-z]/.test(c)) {
      i = lt + 1;
      continue;
    }
    const tag = readStartTag(html, lt);
    if (!tag) return; // unterminated tag: the rest of the document is left alone
    onStart(tag);
    i = tag.end;
    if (RAW_TEXT.has(tag.name)) {
      const re = new RegExp(`</${tag.name}[\\t\\n\\f\\r />]`, 'gi');
      re.lastIndex = i;
      const m = re.exec(html);
      i = m ? m.index : n;
    }
  }
}

function readStartTag(html: string, lt: number): StartTag | null {
  const n = html.length;
  let i = lt + 1;
  while (i < n && !SPACE.test(html[i]!) && html[i] !== '/' && html[i] !== '>') i++;
  const name = html.slice(lt + 1, i).toLowerCase();
  const attrs: Attr[] = [];
  for (;;) {
    while (i < n && (SPACE.test(html[i]!) || html[i] === '/')) i++;
    if (i >= n) return null;
    if (html[i] === '>') return { name, start: lt, end: i + 1, attrs };
    // Attribute name: up to whitespace, '/', '>' or '=' (a leading '=' belongs to the name, as in HTML5).
    const ns = i;
    i++;
    while (i < n && !SPACE.test(html[i]!) && html[i] !== '/' && html[i] !== '>' && html[i] !== '=') i++;
    const attrName = html.slice(ns, i).toLowerCase();
    let j = i;
    while (j < n && SPACE.test(html[j]!)) j++;
    if (html[j] !== '=') {
      attrs.push({ name: attrName, value: '', valueStart: i, valueEnd: i });
      continue;
    }
    j++;
    while (j < n && SPACE.test(html[j]!)) j++;
    if (j >= n) return null;
    const q = html[j];
    if (q === '"' || q === "'") {
      const close = html.indexOf(q, j + 1);
      if (close < 0) return null;
      attrs.push({ name: attrName, value: decodeEntities(html.slice(j + 1, close)), valueStart: j, valueEnd: close + 1 });
      i = close + 1;
    } else if (q === '>') {
      attrs.push({ name: attrName, value: '', valueStart: j, valueEnd: j });
      i = j;
    } else {
      let k = j;
      while (k < n && !SPACE.test(html[k]!) && html[k] !== '>') k++;
      attrs.push({ name: attrName, value: decodeEntities(html.slice(j, k)), valueStart: j, valueEnd: k });
      i = k;
    }
  }
}

/** The named references that matter in URLs (and a few common ones); others are left as written. */
const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', colon: ':', sol: '/', quest: '?', num: '#',
  equals: '=', percnt: '%', plus: '+', period: '.', comma: ',', semi: ';', excl: '!', commat: '@', lpar: '(',
  rpar: ')', lowbar: '_', hyphen: '-', dash: '-', Tab: '\t', NewLine: '\n', copy: '\u00a9', reg: '\u00ae',
};
const LEGACY = new Set(['amp', 'lt', 'gt', 'quot']);

/** Decodes character references as a browser does in an attribute value (numeric, and the NAMED subset). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([A-Za-z][A-Za-z0-9]*)(;?))/g, (all, hex, dec, name, semi, off, str: string) => {
    if (hex !== undefined || dec !== undefined) {
      const cp = hex !== undefined ? parseInt(hex, 16) : parseInt(dec, 10);
      if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(cp);
    }
    const v = NAMED[name];
    if (v === undefined) return all;
    if (semi) return v;
    // Without ';' only the legacy four, and (in attributes) not when '=' or an alphanumeric follows.
    const next = str[off + all.length];
    if (!LEGACY.has(name) || (next !== undefined && /[=A-Za-z0-9]/.test(next))) return all;
    return v;
  });
}

/** Value for a double-quoted attribute. */
export function encodeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
