// Inbound email feedback: a bounce (DSN, RFC 3464: multipart/report; report-type=delivery-status) or a complaint
// (ARF, RFC 5965: multipart/report; report-type=feedback-report) parsed into what the caller needs to suppress the
// address and find the message: the recipient, the Message-ID of the original message (from the attached
// text/rfc822-headers or message/rfc822 part), and for bounces the status and action. The original Message-ID maps
// back to Omnia's message id with omniaIdFromMessageId (email.ts), since the adapter derives one from the other.
import { simpleParser } from 'mailparser';

export interface EmailFeedback {
  kind: 'bounce' | 'complaint' | 'unknown';
  /** The address the feedback is about (Original-Recipient, else Final-Recipient; ARF: Original-Rcpt-To, else the original To). */
  recipient?: string;
  /** Message-ID of the message that bounced or was reported, angle brackets included, e.g. "<msg_…@mail.example.com>". */
  originalMessageId?: string;
  /** X-Omnia-Message-Id of the original message, when the attached headers kept it. */
  omniaMessageId?: string;
  /** DSN Status, e.g. "5.1.1". */
  status?: string;
  /** DSN Action: failed, delayed, delivered, relayed, expanded. */
  action?: string;
  /** DSN Diagnostic-Code, e.g. "smtp; 550 5.1.1 user unknown". */
  diagnosticCode?: string;
  /** ARF Feedback-Type: abuse, fraud, virus, other, not-spam. */
  feedbackType?: string;
  /** True when the address should be suppressed: a failed delivery with a 5.x.x status, or a complaint. */
  permanent: boolean;
}

type Fields = Map<string, string>;

/** RFC 822-style "Name: value" groups (blank-line separated), folded lines joined, names lower-cased. */
export function parseFieldGroups(text: string): Fields[] {
  const groups: Fields[] = [];
  let current: Fields = new Map();
  let last: string | null = null;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === '') {
      if (current.size) groups.push(current);
      current = new Map();
      last = null;
      continue;
    }
    if (/^[ \t]/.test(line) && last) {
      current.set(last, `${current.get(last)} ${line.trim()}`);
      continue;
    }
    const m = /^([!-9;-~]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    last = m[1]!.toLowerCase();
    // A repeated field keeps its first value (Original-Rcpt-To may repeat in ARF; the first is enough here).
    if (!current.has(last)) current.set(last, m[2]!.trim());
  }
  if (current.size) groups.push(current);
  return groups;
}

/** The header block of a message or header part (everything before the first blank line). */
function headerBlock(text: string): Fields {
  const end = text.search(/\r?\n\r?\n/);
  return parseFieldGroups(end >= 0 ? text.slice(0, end) : text)[0] ?? new Map();
}

/** "rfc822; User@Example.com" → "User@Example.com" (an address-type prefix is dropped; "<…>" unwrapped). */
function addressOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const v = value.includes(';') ? value.slice(value.indexOf(';') + 1) : value;
  const a = v.trim().replace(/^<(.*)>$/, '$1').trim();
  return a || undefined;
}

/** The first address in a To-like header value ("Ann <ann@x.com>, …" → "ann@x.com"). */
function firstMailbox(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const bracket = /<([^<>\s]+@[^<>\s]+)>/.exec(value);
  if (bracket) return bracket[1];
  return /[^\s,<>"]+@[^\s,<>"]+/.exec(value)?.[0];
}

const messageIdOf = (v: string | undefined) => {
  const m = v ? /<[^<>\s]+>/.exec(v) : null;
  return m ? m[0] : v?.trim() || undefined;
};

interface Part {
  contentType: string;
  text: string;
}

/** Splits a header block from its body; header names lower-cased, folded lines joined. */
function splitEntity(raw: string): { headers: Fields; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  return { headers: parseFieldGroups(head)[0] ?? new Map(), body };
}

const paramOf = (value: string, name: string) => new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value)?.slice(1).find((x) => x !== undefined);

function decodeBody(body: string, cte: string | undefined): string {
  const enc = (cte ?? '').trim().toLowerCase();
  if (enc === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (enc === 'quoted-printable') {
    const bytes = Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
    return bytes.toString('utf8');
  }
  return body;
}

/**
 * The leaf parts of a multipart body, depth-first (reports are flat, but a forwarded report may be wrapped once or
 * twice). message/rfc822 parts are kept whole, not descended into: the original message is what is wanted.
 */
function leafParts(body: string, boundary: string, depth = 0): Part[] {
  if (depth > 3) return [];
  const delim = `--${boundary}`;
  const out: Part[] = [];
  const chunks = body.split(new RegExp(`(?:^|\\r?\\n)${delim.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(--)?[ \\t]*(?:\\r?\\n|$)`));
  // split with a capture group: [preamble, close?, part, close?, part, …]
  for (let i = 2; i < chunks.length; i += 2) {
    const chunk = chunks[i];
    if (chunk === undefined || chunks[i - 1] === '--') break;
    const { headers, body: partBody } = splitEntity(chunk);
    const ct = headers.get('content-type') ?? 'text/plain';
    const type = ct.split(';')[0]!.trim().toLowerCase();
    const inner = type.startsWith('multipart/') ? paramOf(ct, 'boundary') : undefined;
    if (inner) out.push(...leafParts(partBody, inner, depth + 1));
    else out.push({ contentType: type, text: decodeBody(partBody, headers.get('content-transfer-encoding')) });
  }
  return out;
}

export async function parseEmailFeedback(raw: string | Buffer): Promise<EmailFeedback> {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  // mailparser reads the top-level headers (unfolding, parameter and encoded-word decoding); the report's parts are
  // split here, because mailparser folds message/* parts shown inline into the body text.
  const parsed = await simpleParser(text, { keepDeliveryStatus: true, skipHtmlToText: true, skipTextLinks: true, skipImageLinks: true });
  const ct = parsed.headers.get('content-type') as { value?: string; params?: Record<string, string> } | string | undefined;
  const mime = (typeof ct === 'string' ? ct : ct?.value ?? '').toLowerCase();
  const params = typeof ct === 'object' ? ct?.params ?? {} : {};
  const reportType = (params['report-type'] ?? '').toLowerCase();
  const parts: Part[] = mime.startsWith('multipart/') && params.boundary ? leafParts(splitEntity(text).body, params.boundary) : [];
  const find = (...types: string[]) => parts.find((p) => types.includes(p.contentType));
  const original = find('text/rfc822-headers', 'message/rfc822', 'message/global-headers', 'message/global');
  const originalHeaders = original ? headerBlock(original.text) : new Map<string, string>();
  const originalMessageId = messageIdOf(originalHeaders.get('message-id'));
  const omniaMessageId = originalHeaders.get('x-omnia-message-id') || undefined;
  const common = {
    ...(originalMessageId ? { originalMessageId } : {}),
    ...(omniaMessageId ? { omniaMessageId } : {}),
  };

  const dsn = find('message/delivery-status', 'message/global-delivery-status');
  if (dsn && (reportType === 'delivery-status' || reportType === 'global-delivery-status' || mime === 'multipart/report' || !reportType)) {
    // The first group is per-message (Reporting-MTA, …); each further group is one recipient.
    const groups = parseFieldGroups(dsn.text);
    const recipients = groups.filter((g) => g.has('final-recipient') || g.has('action'));
    const rank = (g: Fields) => ({ failed: 0, delayed: 1 })[g.get('action')?.toLowerCase() ?? ''] ?? 2;
    const r = [...recipients].sort((a, b) => rank(a) - rank(b))[0];
    if (!r) return { kind: 'unknown', permanent: false, ...common };
    const action = r.get('action')?.toLowerCase();
    const status = /\d\.\d{1,3}\.\d{1,3}/.exec(r.get('status') ?? '')?.[0];
    const recipient = addressOf(r.get('original-recipient')) ?? addressOf(r.get('final-recipient'));
    const diagnosticCode = r.get('diagnostic-code');
    const isBounce = action === 'failed' || action === 'delayed';
    return {
      kind: isBounce ? 'bounce' : 'unknown',
      ...(recipient ? { recipient } : {}),
      ...common,
      ...(status ? { status } : {}),
      ...(action ? { action } : {}),
      ...(diagnosticCode ? { diagnosticCode } : {}),
      permanent: action === 'failed' && (status === undefined || status.startsWith('5.')),
    };
  }

  const arf = find('message/feedback-report');
  if (arf) {
    const f = parseFieldGroups(arf.text)[0] ?? new Map<string, string>();
    const feedbackType = f.get('feedback-type')?.toLowerCase();
    const recipient = addressOf(f.get('original-rcpt-to')) ?? firstMailbox(originalHeaders.get('to'));
    // "not-spam" (RFC 6650) is the opposite of a complaint: report it, but nothing to suppress.
    const complaint = feedbackType !== 'not-spam';
    return {
      kind: complaint ? 'complaint' : 'unknown',
      ...(recipient ? { recipient } : {}),
      ...common,
      ...(feedbackType ? { feedbackType } : {}),
      permanent: complaint,
    };
  }
  return { kind: 'unknown', permanent: false, ...common };
}
