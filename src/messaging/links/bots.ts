// Which opens and clicks a person made. Machine fetches are still recorded (with the reason) but not counted as
// engagement. Every rule is a heuristic: user agents are self-declared, IP ranges move, and security gateways try
// hard to look like browsers. The rules err on the side of counting a person: a missed scanner inflates a rate a
// little; a person filtered out disappears from "clicked in the last 30 days" segments.

export type BotReason =
  /** A mail provider fetched the pixel on the reader's behalf (Apple MPP, Gmail/Yahoo image proxies). */
  | 'privacy_proxy'
  /** A security gateway, link scanner or preview fetcher identified by its user agent. */
  | 'scanner'
  /** A non-browser user agent (missing, script clients, headless browsers, crawlers, chat link previews). */
  | 'bot'
  /** Too soon after delivery for a person to have read the message. */
  | 'too_soon'
  /** A HEAD (or other non-GET) request: scanners check links without following them. */
  | 'head_request'
  /** Several distinct links of one message clicked within a moment: a scanner following every link. */
  | 'burst';

export interface Classification {
  human: boolean;
  reason?: BotReason;
  /** Which rule matched, e.g. 'apple_mpp', 'google_image_proxy', 'ua:barracuda'. */
  detail?: string;
}

/**
 * Clicks within 10 s of delivery: security gateways (Microsoft Defender Safe Links, Mimecast, Proofpoint, Barracuda)
 * fetch every link while the message is being delivered, typically within 1–5 s; a person needs longer than that to
 * receive, notice, open, read and click. `deliveredAt` is when the provider accepted the message.
 */
export const CLICK_MIN_DELAY_MS = 10_000;
/** Opens within 2 s of delivery: pixel fetches by gateways scanning on receipt (short: push notifications are fast). */
export const OPEN_MIN_DELAY_MS = 2_000;
/** A scanner follows every link of a message at once; a person opens one, reads, maybe comes back for another. */
export const BURST_WINDOW_MS = 2_000;
/** Clicks on distinct links of one message within BURST_WINDOW_MS that make a burst (this one included). */
export const BURST_MIN_CLICKS = 3;

/**
 * Apple's 17.0.0.0/8 (and Apple's IPv6 allocations). Mail Privacy Protection prefetches remote content through
 * Apple proxies when the message arrives, whether or not it is read; their egress addresses are largely in Apple's
 * own space. Approximate: Apple also uses third-party egress (iCloud Private Relay) we cannot tell from users.
 */
const APPLE_V4: [number, number][] = [[0x11000000, 8]];
const APPLE_V6: [string, number][] = [
  ['2620:149::', 32],
  ['2a01:b740::', 32],
];

/** Pixel fetchers: provider image proxies. [pattern, detail]. */
const PROXY_UAS: [RegExp, string][] = [
  [/GoogleImageProxy|ggpht\.com/i, 'google_image_proxy'],
  [/YahooMailProxy/i, 'yahoo_mail_proxy'],
  [/Yahoo!? ?Mail ?Proxy/i, 'yahoo_mail_proxy'],
];

/** Security gateways and link checkers. */
const SCANNER_UAS: [RegExp, string][] = [
  [/barracuda/i, 'barracuda'],
  [/proofpoint/i, 'proofpoint'],
  [/mimecast/i, 'mimecast'],
  [/BingPreview/i, 'bingpreview'],
  [/Safe ?Links|Defender|ATP ?Scan/i, 'microsoft_defender'],
  [/Symantec|Forcepoint|IronPort|Sophos|FireEye|Trend ?Micro|Cisco|Fortinet|Cloudmark|SpamTitan|Trustwave/i, 'gateway'],
  [/facebookexternalhit|Facebot|Twitterbot|Slackbot|TelegramBot|Discordbot|LinkedInBot|WhatsApp|SkypeUriPreview|Embedly|Iframely|redditbot|Pinterestbot|Applebot/i, 'link_preview'],
];

/**
 * Office apps check a link (HEAD/GET with this UA) before handing it to the browser, which then makes the real
 * request. Clicks only: Outlook for Windows fetches images with "Microsoft Office/16.0 (…Microsoft Outlook…)", and
 * those are real opens.
 */
const OFFICE_UA = /Microsoft Office|ms-office|MSOffice|Office Existence Discovery/i;

/** Non-browsers. (Not okhttp: Android mail apps fetch images with it.) */
const BOT_UAS: [RegExp, string][] = [
  [/^(?:curl|Wget|python-requests|python-urllib|Python\/|aiohttp|httpx|Go-http-client|Java\/|Apache-HttpClient|libwww-perl|node-fetch|axios|undici|Ruby|PHP|Scrapy|HTTPie)/i, 'http_library'],
  [/HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|SlimerJS|Electron\/.*HeadlessChrome/i, 'headless'],
  [/\b(?:bot|crawler|spider|scanner|checker)\b|Googlebot|bingbot|YandexBot|Baiduspider|DuckDuckBot/i, 'crawler'],
];

/** Mail Privacy Protection: Apple's proxy sends exactly this, no platform or engine. */
const APPLE_PROXY_UA = 'Mozilla/5.0';

function firstMatch(ua: string, table: [RegExp, string][]): string | undefined {
  for (const [re, detail] of table) if (re.test(ua)) return detail;
  return undefined;
}

export function classifyOpen(e: { userAgent?: string; ip?: string; at: number; deliveredAt: number }): Classification {
  const ua = (e.userAgent ?? '').trim();
  if (ua === APPLE_PROXY_UA) return { human: false, reason: 'privacy_proxy', detail: 'apple_mpp' };
  if (e.ip !== undefined && isAppleIp(e.ip)) return { human: false, reason: 'privacy_proxy', detail: 'apple_mpp' };
  const proxy = firstMatch(ua, PROXY_UAS);
  if (proxy) return { human: false, reason: 'privacy_proxy', detail: proxy };
  const common = classifyAgent(ua);
  if (common) return common;
  if (e.at - e.deliveredAt < OPEN_MIN_DELAY_MS) return { human: false, reason: 'too_soon' };
  return { human: true };
}

export function classifyClick(e: {
  userAgent?: string;
  ip?: string;
  at: number;
  deliveredAt: number;
  method: string;
  /**
   * Times of recent clicks on OTHER links of the same message, one per distinct link (the caller deduplicates:
   * a person double-clicking one link is not a burst). Future times are allowed (re-classification).
   */
  recentClicksSameMessage: number[];
}): Classification {
  const method = e.method.toUpperCase();
  if (method !== 'GET') return { human: false, reason: 'head_request', detail: method.toLowerCase() };
  const ua = (e.userAgent ?? '').trim();
  // Apple's proxy does not follow links, and clicks from 17/8 are Apple's staff: the IP is not used for clicks.
  if (ua === APPLE_PROXY_UA) return { human: false, reason: 'bot', detail: 'bare_user_agent' };
  if (OFFICE_UA.test(ua)) return { human: false, reason: 'scanner', detail: 'ua:microsoft_office' };
  const common = classifyAgent(ua);
  if (common) return common;
  if (e.at - e.deliveredAt < CLICK_MIN_DELAY_MS) return { human: false, reason: 'too_soon' };
  if (inBurst(e.at, e.recentClicksSameMessage)) return { human: false, reason: 'burst' };
  return { human: true };
}

function classifyAgent(ua: string): Classification | null {
  if (ua === '') return { human: false, reason: 'bot', detail: 'no_user_agent' };
  const scanner = firstMatch(ua, SCANNER_UAS);
  if (scanner) return { human: false, reason: 'scanner', detail: `ua:${scanner}` };
  const bot = firstMatch(ua, BOT_UAS);
  if (bot) return { human: false, reason: 'bot', detail: `ua:${bot}` };
  return null;
}

/** Whether some BURST_WINDOW_MS window holds `at` and at least BURST_MIN_CLICKS − 1 of `others`. */
export function inBurst(at: number, others: number[]): boolean {
  const near = others.filter((t) => Math.abs(t - at) <= BURST_WINDOW_MS).sort((a, b) => a - b);
  // Windows [s, s + W] containing `at`: s ranges over [at − W, at]; slide the start over the sorted times.
  const pts = [...near, at].sort((a, b) => a - b);
  for (let i = 0; i < pts.length; i++) {
    const s = pts[i]!;
    if (s > at) break;
    let n = 0;
    for (let j = i; j < pts.length && pts[j]! <= s + BURST_WINDOW_MS; j++) n++;
    if (s + BURST_WINDOW_MS >= at && n >= BURST_MIN_CLICKS) return true;
  }
  return false;
}

/** For re-classifying afterwards: which of a message's clicks (one per distinct link) fall in some burst. */
export function burstMask(times: number[]): boolean[] {
  return times.map((t, i) => inBurst(t, times.filter((_, j) => j !== i)));
}

// ---- IP ranges ----

export function isAppleIp(ip: string): boolean {
  const v4 = parseIpv4(ip.startsWith('::ffff:') ? ip.slice(7) : ip);
  if (v4 !== null) return APPLE_V4.some(([net, bits]) => v4 >>> (32 - bits) === net >>> (32 - bits));
  const v6 = parseIpv6(ip);
  if (v6 === null) return false;
  return APPLE_V6.some(([net, bits]) => prefixEqual(v6, parseIpv6(net)!, bits));
}

export function parseIpv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const o = m.slice(1).map(Number);
  if (o.some((x) => x > 255)) return null;
  return ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
}

/** Eight 16-bit groups, or null. Accepts `::` compression and a zone id (dropped). */
export function parseIpv6(s: string): number[] | null {
  const addr = s.replace(/%.*$/, '').toLowerCase();
  if (!/^[0-9a-f:]+$/.test(addr) || addr.split('::').length > 2) return null;
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const part = (x: string | undefined) => (x ? x.split(':') : []);
  const h = part(head);
  const t = part(tail);
  if (h.concat(t).some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  return [...h, ...Array(tail === undefined ? 0 : missing).fill('0'), ...t].map((g) => parseInt(g, 16));
}

function prefixEqual(a: number[], b: number[], bits: number): boolean {
  for (let i = 0; i < 8 && bits > 0; i++, bits -= 16) {
    const mask = bits >= 16 ? 0xffff : (0xffff << (16 - bits)) & 0xffff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}
