// SSRF guard for outbound webhooks. A customer-supplied URL must not reach Omnia's own network: loopback, private
// ranges, link-local (cloud metadata at 169.254.169.254), CGNAT, unique-local and link-local IPv6, multicast,
// unspecified and reserved addresses are refused unless the subscription opts in (allowPrivateNetwork).
//
// Checked twice: when a subscription is saved (a clear 400 on `url`), and at every delivery through `guardedLookup`,
// which is the `lookup` of the outgoing socket itself: the addresses that pass the check are exactly the addresses
// connected to, so a DNS answer that changes between check and connect (rebinding) cannot slip through.
import dns from 'node:dns';
import net from 'node:net';

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export class BlockedAddressError extends Error {
  readonly code = 'EBLOCKEDADDRESS';
  constructor(
    readonly hostname: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${hostname === address ? address : `${hostname} resolves to ${address}`}, a ${reason} address; set allowPrivateNetwork to deliver there`);
  }
}

const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'carrier-grade NAT'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved (IETF protocol assignments)'],
  ['192.0.2.0', 24, 'reserved (documentation)'],
  ['192.88.99.0', 24, 'reserved (6to4 relay)'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved (benchmarking)'],
  ['198.51.100.0', 24, 'reserved (documentation)'],
  ['203.0.113.0', 24, 'reserved (documentation)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (incl. broadcast)'],
];

const v4ToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const V4_RANGES = V4_BLOCKED.map(([base, bits, reason]) => ({ base: v4ToInt(base), size: 2 ** (32 - bits), reason }));

function classifyV4(ip: string): string | null {
  const n = v4ToInt(ip);
  for (const r of V4_RANGES) if (n >= r.base && n < r.base + r.size) return r.reason;
  return null;
}

/** Eight 16-bit groups of an IPv6 address (zone id dropped, embedded IPv4 accepted), or null. */
function parseV6(ip: string): number[] | null {
  let s = ip.replace(/%.*$/, '');
  const groups: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  let tail: number[] = [];
  if (v4) {
    if (!net.isIPv4(v4[1]!)) return null;
    const n = v4ToInt(v4[1]!);
    tail = [Math.floor(n / 65536), n % 65536];
    s = s.slice(0, -v4[1]!.length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = parse(s.slice(0, dbl));
    const rest = parse(s.slice(dbl + 2));
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 0) return null;
    groups.push(...head, ...new Array<number>(fill).fill(0), ...rest, ...tail);
  } else groups.push(...parse(s), ...tail);
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  return groups;
}

const v4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

function classifyV6(ip: string): string | null {
  const g = parseV6(ip);
  if (!g) return 'unparseable';
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 8)) return 'unspecified';
  if (zero(0, 7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address is what the socket reaches.
  if (zero(0, 5) && g[5] === 0xffff) return classifyV4(v4Of(g[6]!, g[7]!));
  if (zero(0, 6)) return 'reserved (IPv4-compatible)';
  // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address; local-use NAT64 (64:ff9b:1::/48) is private.
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return classifyV4(v4Of(g[6]!, g[7]!));
  if (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) return 'private (local-use NAT64)';
  // 6to4 (2002::/16) tunnels to the embedded IPv4 address.
  if (g[0] === 0x2002) return classifyV4(v4Of(g[1]!, g[2]!));
  if ((g[0]! & 0xfe00) === 0xfc00) return 'unique-local';
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local';
  if ((g[0]! & 0xffc0) === 0xfec0) return 'site-local';
  if ((g[0]! & 0xff00) === 0xff00) return 'multicast';
  if (g[0] === 0x2001 && g[1]! < 0x200) return 'reserved (IETF special purpose, incl. Teredo)';
  if (g[0] === 0x2001 && g[1] === 0xdb8) return 'reserved (documentation)';
  if (g[0] === 0x100 && zero(1, 4)) return 'reserved (discard)';
  // Everything else outside global unicast (2000::/3) is unassigned or special.
  if ((g[0]! & 0xe000) !== 0x2000) return 'reserved';
  return null;
}

/** Why an IP address must not receive webhooks ("loopback", "private", …), or null when it is public. */
export function classifyAddress(ip: string): string | null {
  const v = net.isIP(ip.replace(/%.*$/, ''));
  if (v === 4) return classifyV4(ip);
  if (v === 6) return classifyV6(ip);
  return 'not an IP address';
}

/** The URL's host as an address or name: brackets of IPv6 literals removed, trailing dot dropped. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
}

/**
 * Resolves a host (every address) and refuses when any of them is private. Returns the addresses. Refusing when any
 * address is private (not only all) is deliberate: the socket may try any of them.
 */
export async function checkHost(hostname: string, allowPrivate: boolean, resolve: Resolver): Promise<{ address: string; family: number }[]> {
  const literal = net.isIP(hostname);
  const addrs = literal ? [{ address: hostname, family: literal }] : await resolve(hostname);
  if (!addrs.length) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
  if (!allowPrivate) {
    for (const a of addrs) {
      const reason = classifyAddress(a.address);
      if (reason) throw new BlockedAddressError(hostname, a.address, reason);
    }
  }
  return addrs;
}

/**
 * A `lookup` for http.request/net.connect that resolves with `resolve`, checks every address, and hands only checked
 * addresses to the socket. (IP-literal hosts never reach a lookup: check them with checkHost before connecting.)
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver, onResolved?: (addresses: string[]) => void): net.LookupFunction {
  return ((hostname: string, options: dns.LookupOptions, callback: (...args: any[]) => void) => {
    checkHost(hostname, allowPrivate, resolve).then(
      (all) => {
        const wanted = options?.family === 4 || options?.family === 6 ? all.filter((a) => a.family === options.family) : all;
        if (!wanted.length) return callback(Object.assign(new Error(`${hostname} has no IPv${options.family} address`), { code: 'ENOTFOUND' }));
        onResolved?.(wanted.map((a) => a.address));
        if (options?.all) callback(null, wanted);
        else callback(null, wanted[0]!.address, wanted[0]!.family);
      },
      (err) => callback(err),
    );
  }) as net.LookupFunction;
}
