// Email over SMTP: a nodemailer pooled transport behind ChannelAdapter.
//
// - Message-ID is <{messageId}@{messageIdDomain}>, derived from Omnia's deterministic message id, so a retry of the
//   same message carries the same Message-ID (receivers and the bounce parser can correlate), and X-Omnia-Message-Id
//   carries the id itself.
// - Caller headers (List-Unsubscribe, List-Unsubscribe-Post, …) go out verbatim; CR/LF in any header value (or in the
//   subject, names and addresses) is refused as a permanent error, never folded into the message.
// - SMTP answers map to SendResult: 2xx sent; 4xx, connection errors and timeouts transient; 5xx permanent, with
//   bounce when the recipient itself was refused (550/551/553 at RCPT TO, or an enhanced status 5.1.x / 5.2.1).
import { createPrivateKey } from 'node:crypto';
import { domainToASCII } from 'node:url';
import nodemailer from 'nodemailer';
import type { ChannelAdapter, ChannelHealth, SendRequest, SendResult } from '../messaging/types.ts';
import { ChannelConfigError, ConfigChecker, HOSTNAME_RE, type Validated, isObject } from './config-check.ts';

export interface EmailConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465). Otherwise STARTTLS is used when the server offers it. */
  secure?: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  requireTLS?: boolean;
  auth?: { user: string; pass: string };
  /** Connections kept open (default 5) and messages per connection before it is recycled (default 100). */
  pool?: { maxConnections: number; maxMessages?: number };
  dkim?: { domainName: string; keySelector: string; privateKey: string };
  messageIdDomain: string;
  /** Default true; false accepts self-signed certificates (a relay on a private network). */
  tlsRejectUnauthorized?: boolean;
}

const EMAIL_KEYS = ['host', 'port', 'secure', 'requireTLS', 'auth', 'pool', 'dkim', 'messageIdDomain', 'tlsRejectUnauthorized'] as const;

export function validateEmailConfig(input: unknown, prefix = ''): Validated<EmailConfig> {
  const c = new ConfigChecker();
  const p = (f: string) => (prefix ? `${prefix}.${f}` : f);
  if (!isObject(input)) return { ok: false, errors: [{ field: prefix || '(config)', message: 'must be an object' }] };
  c.noUnknownKeys(input, EMAIL_KEYS, prefix);
  const host = c.string(input, 'host', p('host'), { pattern: HOSTNAME_RE, hint: 'must be a host name or an IPv4 address' });
  const port = c.int(input, 'port', p('port'), { min: 1, max: 65535 });
  const secure = c.bool(input, 'secure', p('secure'));
  const requireTLS = c.bool(input, 'requireTLS', p('requireTLS'));
  if (secure && requireTLS) c.fail(p('requireTLS'), 'cannot be combined with secure (TLS is already required)');
  const tlsRejectUnauthorized = c.bool(input, 'tlsRejectUnauthorized', p('tlsRejectUnauthorized'));
  const messageIdDomain = c.string(input, 'messageIdDomain', p('messageIdDomain'), { pattern: HOSTNAME_RE, hint: 'must be a domain name, e.g. mail.example.com' });
  const cfg: EmailConfig = { host: host!, port: port!, messageIdDomain: messageIdDomain! };
  if (secure !== undefined) cfg.secure = secure;
  if (requireTLS !== undefined) cfg.requireTLS = requireTLS;
  if (tlsRejectUnauthorized !== undefined) cfg.tlsRejectUnauthorized = tlsRejectUnauthorized;

  const auth = c.object(input, 'auth', p('auth'), true);
  if (auth) {
    c.noUnknownKeys(auth, ['user', 'pass'], p('auth'));
    const user = c.string(auth, 'user', p('auth.user'));
    const pass = c.string(auth, 'pass', p('auth.pass'));
    cfg.auth = { user: user!, pass: pass! };
  }
  const pool = c.object(input, 'pool', p('pool'), true);
  if (pool) {
    c.noUnknownKeys(pool, ['maxConnections', 'maxMessages'], p('pool'));
    const maxConnections = c.int(pool, 'maxConnections', p('pool.maxConnections'), { min: 1, max: 100 });
    const maxMessages = c.int(pool, 'maxMessages', p('pool.maxMessages'), { optional: true, min: 1 });
    cfg.pool = { maxConnections: maxConnections!, ...(maxMessages !== undefined ? { maxMessages } : {}) };
  }
  const dkim = c.object(input, 'dkim', p('dkim'), true);
  if (dkim) {
    c.noUnknownKeys(dkim, ['domainName', 'keySelector', 'privateKey'], p('dkim'));
    const domainName = c.string(dkim, 'domainName', p('dkim.domainName'), { pattern: HOSTNAME_RE, hint: 'must be a domain name' });
    const keySelector = c.string(dkim, 'keySelector', p('dkim.keySelector'), { pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/, hint: 'must be a DNS label such as "s1" or "2024-01"' });
    const privateKey = c.string(dkim, 'privateKey', p('dkim.privateKey'));
    if (privateKey) {
      try {
        const key = createPrivateKey(privateKey);
        const bits = key.asymmetricKeyDetails?.modulusLength;
        if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ed25519') c.fail(p('dkim.privateKey'), 'must be an RSA or Ed25519 key');
        else if (key.asymmetricKeyType === 'rsa' && bits !== undefined && bits < 1024) c.fail(p('dkim.privateKey'), 'RSA keys must be at least 1024 bits (2048 recommended)');
      } catch {
        c.fail(p('dkim.privateKey'), 'must be a PEM private key');
      }
    }
    cfg.dkim = { domainName: domainName!, keySelector: keySelector!, privateKey: privateKey! };
  }
  return c.result(cfg);
}

// RFC 5322 atext; a dot-atom local part, and a domain of LDH labels (IDNs are accepted and sent as A-labels).
const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~-";
const LOCAL_RE = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Why `address` is not a single deliverable mailbox (addr-spec), or null when it is. */
export function emailAddressProblem(address: string): string | null {
  if (typeof address !== 'string' || address.length === 0) return 'is empty';
  if (address.length > 254) return 'is longer than 254 characters';
  if (/[\r\n\0]/.test(address)) return 'contains a line break';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'has no local part and domain (local@domain)';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64) return 'has a local part longer than 64 characters';
  if (!LOCAL_RE.test(local)) return 'has characters not allowed in the local part (one address only, no name or brackets)';
  const ascii = domainToASCII(domain);
  if (!ascii) return `has an invalid domain "${domain}"`;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL_RE.test(l)) || /^\d+$/.test(labels[labels.length - 1]!)) return `has an invalid domain "${domain}"`;
  return null;
}

/** Headers the adapter sets itself; a caller may not replace them. */
const RESERVED_HEADERS = new Set(
  ['from', 'to', 'cc', 'bcc', 'subject', 'reply-to', 'sender', 'message-id', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'dkim-signature', 'return-path', 'x-omnia-message-id'],
);
const HEADER_NAME_RE = /^[!-9;-~]+$/;
const HAS_LINE_BREAK = /[\r\n\0]/;

/** The Message-ID for an Omnia message id: characters outside atext are escaped as =XX (deterministic, reversible). */
export function messageIdFor(messageId: string, domain: string): string {
  const left = messageId.replace(new RegExp(`[^.${ATEXT.replace('=', '')}]|=`, 'g'), (ch) =>
    [...Buffer.from(ch, 'utf8')].map((b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''),
  );
  const dotSafe = left.replace(/^\.|\.$/g, '=2E').replace(/\.\./g, '.=2E');
  return `<${dotSafe}@${domain}>`;
}

/** Inverse of messageIdFor's left part: the Omnia message id from a Message-ID, when it has our domain. */
export function omniaIdFromMessageId(messageIdHeader: string, domain: string): string | null {
  const m = /^\s*<?([^<>@\s]+)@([^<>@\s]+?)>?\s*$/.exec(messageIdHeader);
  if (!m || m[2]!.toLowerCase() !== domain.toLowerCase()) return null;
  try {
    const bytes: number[] = [];
    const s = m[1]!;
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '=' && /^[0-9A-F]{2}$/i.test(s.slice(i + 1, i + 3))) {
        bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else bytes.push(...Buffer.from(s[i]!, 'utf8'));
    }
    return Buffer.from(bytes).toString('utf8');
  } catch {
    return null;
  }
}

interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

const TRANSIENT_CODES = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EDNS', 'ETLS', 'EPROTOCOL', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EMAXLIMIT', 'EPROXY']);

/** Maps a nodemailer/SMTP failure to a SendResult (exported for tests and for other SMTP-based adapters). */
export function classifySmtpError(e: unknown): SendResult {
  const err = (e ?? {}) as SmtpError;
  const message = String(err.message ?? e);
  const code = typeof err.responseCode === 'number' ? err.responseCode : undefined;
  const enhanced = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(err.response ?? '')?.[1];
  const where = err.command ? ` (${err.command})` : '';
  if (code !== undefined) {
    const text = `smtp ${code}${where}: ${(err.response ?? message).slice(0, 500)}`;
    // 503 is "bad sequence of commands": a protocol hiccup of this connection, not a verdict on the message.
    if (code >= 400 && code < 500) return { status: 'transient', error: text };
    if (code === 503) return { status: 'transient', error: text };
    // Credentials refused: the relay's configuration, not this message; retry once an operator fixes it.
    if (err.code === 'EAUTH') return { status: 'transient', error: `smtp auth refused: ${text}` };
    if (code >= 500) {
      const rcpt = err.command === 'RCPT TO';
      const recipientCode = code === 550 || code === 551 || code === 553;
      const bounce = enhanced
        ? /^5\.1\./.test(enhanced) || enhanced === '5.2.1' || (enhanced === '5.0.0' && rcpt && recipientCode)
        : rcpt && recipientCode;
      return bounce ? { status: 'permanent', error: text, bounce: true } : { status: 'permanent', error: text };
    }
  }
  if (err.code === 'EAUTH' || err.code === 'ENOAUTH') return { status: 'transient', error: `smtp auth: ${message}` };
  if (err.code && TRANSIENT_CODES.has(err.code)) return { status: 'transient', error: `smtp ${err.code}: ${message}` };
  if (err.code === 'EENVELOPE' || err.code === 'EMESSAGE' || err.code === 'EMAXRECIPIENTS') return { status: 'permanent', error: `smtp ${err.code}: ${message}` };
  // Anything unknown (a stream error, a bug): retrying is the safer default, the retry budget bounds it.
  return { status: 'transient', error: `smtp: ${message}` };
}

type MailHeaders = Record<string, string | { prepared: true; foldLines: true; value: string }>;

/** The caller's headers checked and prepared for nodemailer, or the reason they are refused. */
export function prepareHeaders(headers: Record<string, string> | undefined): { ok: true; headers: MailHeaders } | { ok: false; error: string } {
  const out: MailHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!HEADER_NAME_RE.test(name)) return { ok: false, error: `header injection refused: invalid header name ${JSON.stringify(name)}` };
    if (typeof value !== 'string') return { ok: false, error: `header ${name} must be a string` };
    if (HAS_LINE_BREAK.test(value)) return { ok: false, error: `header injection refused: CR/LF in the value of ${name}` };
    if (RESERVED_HEADERS.has(name.toLowerCase())) return { ok: false, error: `header ${name} is set by the email adapter and cannot be given` };
    // Plain ASCII goes out exactly as given (folded only if over the line limit); anything else is RFC 2047 encoded.
    out[name] = /^[\x20-\x7e\t]*$/.test(value) ? { prepared: true, foldLines: true, value } : value;
  }
  return { ok: true, headers: out };
}

export function createEmailAdapter(config: EmailConfig): ChannelAdapter {
  const checked = validateEmailConfig(config);
  if (!checked.ok) throw new ChannelConfigError(checked.errors, 'email config');
  const cfg = checked.value;
  const transporter = nodemailer.createTransport({
    pool: true,
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure ?? false,
    requireTLS: cfg.requireTLS ?? false,
    ...(cfg.auth ? { auth: { user: cfg.auth.user, pass: cfg.auth.pass } } : {}),
    maxConnections: cfg.pool?.maxConnections ?? 5,
    maxMessages: cfg.pool?.maxMessages ?? 100,
    ...(cfg.dkim ? { dkim: { domainName: cfg.dkim.domainName, keySelector: cfg.dkim.keySelector, privateKey: cfg.dkim.privateKey } } : {}),
    tls: { rejectUnauthorized: cfg.tlsRejectUnauthorized ?? true },
    connectionTimeout: 30_000,
    greetingTimeout: 30_000,
    socketTimeout: 60_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  let closed = false;

  async function send(req: SendRequest): Promise<SendResult> {
    if (closed) return { status: 'transient', error: 'email adapter is closed' };
    if (req.content.channel !== 'email') return { status: 'permanent', error: `email adapter cannot send ${req.content.channel} content` };
    if (typeof req.to !== 'string') return { status: 'permanent', error: 'email recipient must be an address string' };
    const to = req.to.trim();
    const toProblem = emailAddressProblem(to);
    if (toProblem) return { status: 'permanent', error: `invalid recipient address ${JSON.stringify(req.to)}: ${toProblem}` };
    const email = req.content.email;
    const fromProblem = emailAddressProblem(email.from.address);
    if (fromProblem) return { status: 'permanent', error: `invalid From address ${JSON.stringify(email.from.address)}: ${fromProblem}` };
    if (email.replyTo !== undefined) {
      const p = emailAddressProblem(email.replyTo);
      if (p) return { status: 'permanent', error: `invalid Reply-To address ${JSON.stringify(email.replyTo)}: ${p}` };
    }
    if (HAS_LINE_BREAK.test(email.subject)) return { status: 'permanent', error: 'header injection refused: CR/LF in the subject' };
    if (HAS_LINE_BREAK.test(email.from.name)) return { status: 'permanent', error: 'header injection refused: CR/LF in the From name' };
    if (HAS_LINE_BREAK.test(req.messageId)) return { status: 'permanent', error: 'header injection refused: CR/LF in the message id' };
    const headers = prepareHeaders(req.headers);
    if (!headers.ok) return { status: 'permanent', error: headers.error };
    const messageId = messageIdFor(req.messageId, cfg.messageIdDomain);
    headers.headers['X-Omnia-Message-Id'] = { prepared: true, foldLines: true, value: req.messageId };
    try {
      const info = await transporter.sendMail({
        from: { name: email.from.name, address: email.from.address },
        to,
        ...(email.replyTo ? { replyTo: email.replyTo } : {}),
        subject: email.subject,
        text: email.text,
        html: email.html,
        messageId,
        headers: headers.headers,
      });
      if (info.rejected?.length) return classifySmtpError(Object.assign(new Error('recipient rejected'), { responseCode: 550, command: 'RCPT TO', response: String(info.response) }));
      return { status: 'sent', providerId: messageId };
    } catch (e) {
      return classifySmtpError(e);
    }
  }

  return {
    channel: 'email',
    send,
    async health(): Promise<ChannelHealth> {
      try {
        await transporter.verify();
        return { ok: true, detail: `SMTP ${cfg.host}:${cfg.port} accepted the connection${cfg.auth ? ' and credentials' : ''}` };
      } catch (e) {
        return { ok: false, detail: `SMTP ${cfg.host}:${cfg.port}: ${(e as Error).message}` };
      }
    },
    async close(): Promise<void> {
      closed = true;
      transporter.close();
    },
  };
}
