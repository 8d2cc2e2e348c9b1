// A real SMTP server (smtp-server) on 127.0.0.1 for the email adapter tests: records every message as received (raw
// bytes, envelope), can refuse recipients or data with a chosen SMTP reply, optionally requires AUTH PLAIN, and counts
// concurrent connections.
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface ReceivedMail {
  raw: Buffer;
  from: string | undefined;
  to: string[];
  user: string | undefined;
}

export interface SmtpReply {
  code: number;
  message: string;
}

export interface TestSmtpServerOptions {
  /** Require AUTH PLAIN/LOGIN with these credentials (over plain TCP: allowInsecureAuth). */
  auth?: { user: string; pass: string };
  /** Offer STARTTLS (smtp-server's built-in self-signed certificate). Default false. */
  starttls?: boolean;
  /** A reply refusing a recipient, or null to accept it. */
  onRcpt?: (address: string) => SmtpReply | null;
  /** A reply refusing the message after DATA, or null to accept it. */
  onData?: (raw: Buffer) => SmtpReply | null;
}

export interface TestSmtpServer {
  port: number;
  messages: ReceivedMail[];
  /** Connections open right now, and the most seen at once. */
  readonly open: number;
  readonly maxOpen: number;
  readonly connections: number;
  close(): Promise<void>;
}

const smtpError = (r: SmtpReply) => Object.assign(new Error(r.message), { responseCode: r.code });

export async function startSmtpServer(opts: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  let open = 0;
  let maxOpen = 0;
  let connections = 0;
  const options: SMTPServerOptions = {
    logger: false,
    disabledCommands: [...(opts.starttls ? [] : ['STARTTLS']), ...(opts.auth ? [] : ['AUTH'])],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    size: 10 * 1024 * 1024,
    onConnect(_session, cb) {
      open++;
      connections++;
      maxOpen = Math.max(maxOpen, open);
      cb();
    },
    onClose() {
      open--;
    },
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onRcptTo(address, _session, cb) {
      const r = opts.onRcpt?.(address.address);
      cb(r ? smtpError(r) : undefined);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        const r = opts.onData?.(raw);
        if (r) return cb(smtpError(r));
        messages.push({
          raw,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((a) => a.address),
          user: session.user as string | undefined,
        });
        cb();
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', () => {
    /* a client dropping mid-session; the test sees it through the adapter */
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    get open() {
      return open;
    },
    get maxOpen() {
      return maxOpen;
    },
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
