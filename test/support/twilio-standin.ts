// A local stand-in for Twilio's Messages API (the 2010-04-01 REST API), on 127.0.0.1, speaking the same wire protocol:
//   POST /2010-04-01/Accounts/{AccountSid}/Messages.json  (form: To, From | MessagingServiceSid, Body, StatusCallback)
//   GET  /2010-04-01/Accounts/{AccountSid}.json
// HTTP Basic auth AccountSid:AuthToken; Twilio-shaped JSON (201 with an SM… sid, errors as { code, message,
// more_info, status }). It records messages, can fail the next N requests (500 / 429 with Retry-After) or answer a
// Twilio error code, and can POST signed status callbacks and inbound messages the way Twilio signs them:
// X-Twilio-Signature = base64(HMAC-SHA1(AuthToken, url + sorted param names and values)).
//
// The signature is computed here independently of src/channels/sms-inbound.ts, so the tests check one against the
// other rather than the code against itself.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandinMessage {
  sid: string;
  to: string;
  from: string | null;
  messagingServiceSid: string | null;
  body: string;
  statusCallback: string | null;
  authorization: string;
  contentType: string;
  dateCreated: string;
}

/** The errors Twilio answers for the codes the tests use (status and message as Twilio words them). */
const ERRORS: Record<number, { status: number; message: (to: string) => string }> = {
  21211: { status: 400, message: (to) => `The 'To' number ${to} is not a valid phone number.` },
  21408: { status: 400, message: () => 'Permission to send an SMS has not been enabled for the region indicated by the \'To\' number.' },
  21610: { status: 400, message: () => 'Attempt to send to unsubscribed recipient' },
  21614: { status: 400, message: (to) => `'To' number ${to} is not a valid mobile number` },
  21602: { status: 400, message: () => 'Message body is required.' },
  21604: { status: 400, message: () => "A 'To' phone number is required." },
  21603: { status: 400, message: () => "A 'From' or 'MessagingServiceSid' parameter is required to send a message." },
  20003: { status: 401, message: () => 'Authenticate' },
  20404: { status: 404, message: () => 'The requested resource was not found' },
  20429: { status: 429, message: () => 'Too Many Requests' },
};

function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .map((k) => k + params[k])
    .join('');
  return crypto.createHmac('sha1', authToken).update(url + data, 'utf8').digest('base64');
}

export interface TwilioStandin {
  baseUrl: string;
  accountSid: string;
  authToken: string;
  messages: StandinMessage[];
  /** Requests seen, including refused ones. */
  requests: number;
  /** The next `count` requests fail with `status` (500 or 429), with Retry-After seconds when given. */
  failNext(count: number, status: 500 | 503 | 429, retryAfterSeconds?: number): void;
  /** The next request to send to `to` (or any, when omitted) is answered with Twilio error `code`. */
  answerError(code: number, to?: string): void;
  /** POSTs a signed status callback for a recorded message to its StatusCallback URL (or `url`). */
  sendStatusCallback(sid: string, status: string, opts?: { url?: string; errorCode?: string }): Promise<{ status: number; params: Record<string, string>; signature: string }>;
  /** POSTs a signed inbound-message webhook, as Twilio does when someone texts the number. */
  sendInbound(url: string, msg: { from: string; to: string; body: string }): Promise<{ status: number; params: Record<string, string>; signature: string }>;
  close(): Promise<void>;
}

const hex = (n: number) => crypto.randomBytes(n).toString('hex');

export async function startTwilioStandin(opts: { accountSid?: string; authToken?: string } = {}): Promise<TwilioStandin> {
  const accountSid = opts.accountSid ?? `AC${hex(16)}`;
  const authToken = opts.authToken ?? hex(16);
  const messages: StandinMessage[] = [];
  const failures: { status: number; retryAfter?: number }[] = [];
  const errorAnswers: { code: number; to?: string }[] = [];
  let requests = 0;

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(JSON.stringify(body));
  };
  const error = (res: http.ServerResponse, code: number, to = '', headers: Record<string, string> = {}) => {
    const e = ERRORS[code] ?? { status: 400, message: () => `Error ${code}` };
    json(res, e.status, { code, message: e.message(to), more_info: `https://www.twilio.com/docs/errors/${code}`, status: e.status }, headers);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const failure = failures.shift();
      if (failure) {
        const headers: Record<string, string> = failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {};
        if (failure.status === 429) return error(res, 20429, '', headers);
        return json(res, failure.status, { code: 20500, message: 'An internal server error has occurred', more_info: 'https://www.twilio.com/docs/errors/20500', status: failure.status }, headers);
      }
      const auth = req.headers.authorization ?? '';
      const [scheme, cred] = auth.split(' ');
      const decoded = scheme === 'Basic' && cred ? Buffer.from(cred, 'base64').toString('utf8') : '';
      const url = new URL(req.url ?? '/', 'http://standin');
      const m = /^\/2010-04-01\/Accounts\/([^/]+?)(\/Messages)?\.json$/.exec(url.pathname);
      if (!m) return error(res, 20404);
      if (decoded !== `${accountSid}:${authToken}`) return error(res, 20003, '', { 'www-authenticate': 'Basic realm="Twilio API"' });
      // The credentials are right but the path names another account: Twilio answers 20404 (not found), not 401.
      if (m[1] !== accountSid) return error(res, 20404);
      if (!m[2]) {
        if (req.method !== 'GET') return error(res, 20404);
        return json(res, 200, { sid: accountSid, friendly_name: 'Stand-in account', status: 'active', type: 'Full' });
      }
      if (req.method !== 'POST') return error(res, 20404);
      const contentType = req.headers['content-type'] ?? '';
      if (!contentType.startsWith('application/x-www-form-urlencoded')) return json(res, 415, { code: 20415, message: 'Unsupported Media Type', status: 415 });
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const to = form.get('To') ?? '';
      const from = form.get('From');
      const service = form.get('MessagingServiceSid');
      const body = form.get('Body') ?? '';
      if (!to) return error(res, 21604);
      if (!from && !service) return error(res, 21603);
      if (!body) return error(res, 21602);
      if (!/^\+[1-9]\d{6,14}$/.test(to)) return error(res, 21211, to);
      const forced = errorAnswers.findIndex((e) => e.to === undefined || e.to === to);
      if (forced >= 0) return error(res, errorAnswers.splice(forced, 1)[0]!.code, to);
      const sid = `SM${hex(16)}`;
      const now = new Date().toUTCString().replace('GMT', '+0000');
      const msg: StandinMessage = {
        sid,
        to,
        from,
        messagingServiceSid: service,
        body,
        statusCallback: form.get('StatusCallback'),
        authorization: auth,
        contentType,
        dateCreated: now,
      };
      messages.push(msg);
      json(res, 201, {
        account_sid: accountSid,
        api_version: '2010-04-01',
        body,
        date_created: now,
        date_sent: null,
        date_updated: now,
        direction: 'outbound-api',
        error_code: null,
        error_message: null,
        from: from ?? null,
        messaging_service_sid: service,
        num_media: '0',
        num_segments: String(Math.max(1, Math.ceil(body.length / 153))),
        price: null,
        price_unit: 'USD',
        sid,
        status: service ? 'accepted' : 'queued',
        subresource_uris: { media: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}/Media.json` },
        to,
        uri: `/2010-04-01/Accounts/${accountSid}/Messages/${sid}.json`,
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function postSigned(url: string, params: Record<string, string>) {
    const signature = twilioSignature(authToken, url, params);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'x-twilio-signature': signature, 'user-agent': 'TwilioProxy/1.1', 'i-twilio-idempotency-token': crypto.randomUUID() },
      body: new URLSearchParams(params).toString(),
    });
    await res.arrayBuffer();
    return { status: res.status, params, signature };
  }

  return {
    baseUrl,
    accountSid,
    authToken,
    messages,
    get requests() {
      return requests;
    },
    failNext(count, status, retryAfterSeconds) {
      for (let i = 0; i < count; i++) failures.push({ status, ...(retryAfterSeconds !== undefined ? { retryAfter: retryAfterSeconds } : {}) });
    },
    answerError(code, to) {
      errorAnswers.push({ code, ...(to !== undefined ? { to } : {}) });
    },
    async sendStatusCallback(sid, status, o = {}) {
      const msg = messages.find((m) => m.sid === sid);
      const url = o.url ?? msg?.statusCallback;
      if (!url) throw new Error(`no StatusCallback URL for ${sid}`);
      const params: Record<string, string> = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        From: msg?.from ?? '',
        MessageSid: sid,
        MessageStatus: status,
        SmsSid: sid,
        SmsStatus: status,
        To: msg?.to ?? '',
        ...(o.errorCode ? { ErrorCode: o.errorCode } : {}),
      };
      return postSigned(url, params);
    },
    async sendInbound(url, m) {
      const sid = `SM${hex(16)}`;
      return postSigned(url, {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        Body: m.body,
        From: m.from,
        FromCountry: 'US',
        MessageSid: sid,
        NumMedia: '0',
        NumSegments: '1',
        SmsMessageSid: sid,
        SmsSid: sid,
        SmsStatus: 'received',
        To: m.to,
        ToCountry: 'US',
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
