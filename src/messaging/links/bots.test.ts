import { describe, expect, it } from 'vitest';
import {
  burstMask,
  CLICK_MIN_DELAY_MS,
  classifyClick,
  classifyOpen,
  inBurst,
  isAppleIp,
  OPEN_MIN_DELAY_MS,
  parseIpv6,
} from './bots.ts';

const D = 1_750_000_000_000; // delivered at
const MIN = 60_000;
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
const OUTLOOK_DESKTOP = 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17531; Pro)';
const GMAIL = 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)';
const YAHOO = 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html';

describe('classifyOpen', () => {
  it.each<[string, { userAgent?: string; ip?: string; at?: number }, boolean, string?, string?]>([
    ['a mail client on a phone', { userAgent: IPHONE, ip: '203.0.113.5' }, true],
    ['Outlook for Windows (a real open)', { userAgent: OUTLOOK_DESKTOP }, true],
    ['Apple MPP: bare Mozilla/5.0', { userAgent: 'Mozilla/5.0', ip: '203.0.113.5' }, false, 'privacy_proxy', 'apple_mpp'],
    ['Apple MPP: from 17.0.0.0/8', { userAgent: IPHONE, ip: '17.58.100.1' }, false, 'privacy_proxy', 'apple_mpp'],
    ['Apple MPP: IPv4-mapped', { userAgent: IPHONE, ip: '::ffff:17.1.2.3' }, false, 'privacy_proxy', 'apple_mpp'],
    ['Apple MPP: Apple IPv6', { userAgent: IPHONE, ip: '2620:149:a:b::1' }, false, 'privacy_proxy', 'apple_mpp'],
    ['not Apple: 18.x', { userAgent: IPHONE, ip: '18.0.0.1' }, true],
    ['not Apple: 170.x', { userAgent: IPHONE, ip: '170.1.2.3' }, true],
    ['Gmail image proxy', { userAgent: GMAIL, ip: '66.249.84.1' }, false, 'privacy_proxy', 'google_image_proxy'],
    ['Yahoo proxy', { userAgent: YAHOO }, false, 'privacy_proxy', 'yahoo_mail_proxy'],
    ['Barracuda', { userAgent: 'Barracuda Sentinel (EE)' }, false, 'scanner', 'ua:barracuda'],
    ['no user agent', {}, false, 'bot', 'no_user_agent'],
    ['curl', { userAgent: 'curl/8.5.0' }, false, 'bot', 'ua:http_library'],
    ['headless Chrome', { userAgent: CHROME.replace('Chrome/', 'HeadlessChrome/') }, false, 'bot', 'ua:headless'],
    ['fetched at delivery', { userAgent: CHROME, at: D + OPEN_MIN_DELAY_MS - 1 }, false, 'too_soon'],
    ['just after the window', { userAgent: CHROME, at: D + OPEN_MIN_DELAY_MS }, true],
  ])('%s', (_n, e, human, reason, detail) => {
    const r = classifyOpen({ at: D + 5 * MIN, deliveredAt: D, ...e });
    expect(r.human).toBe(human);
    expect(r.reason).toBe(reason);
    if (detail) expect(r.detail).toBe(detail);
  });
});

describe('classifyClick', () => {
  const base = { userAgent: CHROME, ip: '203.0.113.9', at: D + 5 * MIN, deliveredAt: D, method: 'GET', recentClicksSameMessage: [] as number[] };
  it.each<[string, Partial<typeof base>, boolean, string?, string?]>([
    ['a person in Chrome', {}, true],
    ['a person on Apple IP space (not used for clicks)', { ip: '17.1.2.3', userAgent: IPHONE }, true],
    ['HEAD request', { method: 'HEAD' }, false, 'head_request', 'head'],
    ['lower-case get', { method: 'get' }, true],
    ['OPTIONS', { method: 'OPTIONS' }, false, 'head_request', 'options'],
    ['within 10 s of delivery', { at: D + CLICK_MIN_DELAY_MS - 1 }, false, 'too_soon'],
    ['before delivery (clock skew)', { at: D - 1000 }, false, 'too_soon'],
    ['10 s after delivery', { at: D + CLICK_MIN_DELAY_MS }, true],
    ['Proofpoint', { userAgent: 'Proofpoint URL Defense' }, false, 'scanner', 'ua:proofpoint'],
    ['Mimecast', { userAgent: 'Mozilla/5.0 (compatible; Mimecast URL Protect)' }, false, 'scanner', 'ua:mimecast'],
    ['BingPreview (Safe Links)', { userAgent: `${CHROME} BingPreview/1.0b` }, false, 'scanner', 'ua:bingpreview'],
    ['Microsoft Office link check', { userAgent: 'Microsoft Office Existence Discovery' }, false, 'scanner', 'ua:microsoft_office'],
    ['Word', { userAgent: 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)' }, false, 'scanner', 'ua:microsoft_office'],
    ['Outlook desktop fetch', { userAgent: OUTLOOK_DESKTOP }, false, 'scanner', 'ua:microsoft_office'],
    ['wget', { userAgent: 'Wget/1.21.4' }, false, 'bot', 'ua:http_library'],
    ['python-requests', { userAgent: 'python-requests/2.32.3' }, false, 'bot', 'ua:http_library'],
    ['Go', { userAgent: 'Go-http-client/2.0' }, false, 'bot', 'ua:http_library'],
    ['headless', { userAgent: 'Mozilla/5.0 HeadlessChrome/125.0' }, false, 'bot', 'ua:headless'],
    ['iMessage / Facebook preview (SMS links)', { userAgent: 'facebookexternalhit/1.1 Facebot Twitterbot/1.0' }, false, 'scanner', 'ua:link_preview'],
    ['Slack preview', { userAgent: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }, false, 'scanner', 'ua:link_preview'],
    ['generic crawler', { userAgent: 'Mozilla/5.0 (compatible; SomeBot bot; +https://x.example)' }, false, 'bot', 'ua:crawler'],
    ['a phone brand containing "bot"', { userAgent: 'Mozilla/5.0 (Linux; Android 12; CUBOT X30) AppleWebKit/537.36 Chrome/120 Mobile Safari/537.36' }, true],
    ['bare Mozilla/5.0', { userAgent: 'Mozilla/5.0' }, false, 'bot', 'bare_user_agent'],
    ['no user agent', { userAgent: '' }, false, 'bot', 'no_user_agent'],
    ['third distinct link within 2 s', { recentClicksSameMessage: [base.at - 1500, base.at - 800] }, false, 'burst'],
    ['burst counted with later clicks too', { recentClicksSameMessage: [base.at - 900, base.at + 900] }, false, 'burst'],
    ['two links within 2 s is fine', { recentClicksSameMessage: [base.at - 500] }, true],
    ['three links spread over > 2 s', { recentClicksSameMessage: [base.at - 2100, base.at - 1000, base.at - 30_000] }, true],
    ['spread both sides: no 2 s window holds three', { recentClicksSameMessage: [base.at - 1500, base.at + 1500] }, true],
  ])('%s', (_n, e, human, reason, detail) => {
    const r = classifyClick({ ...base, ...e });
    expect(r.human).toBe(human);
    expect(r.reason).toBe(reason);
    if (detail) expect(r.detail).toBe(detail);
  });

  it('burstMask marks every click in a burst, for re-classification', () => {
    expect(burstMask([0, 500, 1000, 10_000, 20_000, 21_000])).toEqual([true, true, true, false, false, false]);
    expect(burstMask([0, 2000, 4000])).toEqual([false, false, false]);
    expect(burstMask([0, 2000, 2000])).toEqual([true, true, true]);
    expect(inBurst(0, [])).toBe(false);
  });
});

describe('IP parsing', () => {
  it.each([
    ['17.0.0.0', true],
    ['17.255.255.255', true],
    ['16.255.255.255', false],
    ['017.1.1.1', true],
    ['17.1.1', false],
    ['17.1.1.256', false],
    ['2a01:b740::1', true],
    ['2620:149::%en0', true],
    ['2620:148:ffff::1', false],
    ['::1', false],
    ['not an ip', false],
  ])('isAppleIp(%s) = %s', (ip, want) => {
    expect(isAppleIp(ip)).toBe(want);
  });

  it('parses IPv6 forms', () => {
    expect(parseIpv6('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIpv6('1::8')).toEqual([1, 0, 0, 0, 0, 0, 0, 8]);
    expect(parseIpv6('1:2:3:4:5:6:7')).toBeNull();
    expect(parseIpv6('1::2::3')).toBeNull();
    expect(parseIpv6('12345::')).toBeNull();
    expect(parseIpv6('1:2:3:4:5:6:7:8::')).toBeNull();
  });
});
