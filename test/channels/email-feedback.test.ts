// Inbound bounces (RFC 3464 DSN) and complaints (RFC 5965 ARF) as real MTAs and mailbox providers send them.
import { describe, expect, it } from 'vitest';
import { parseEmailFeedback } from '../../src/channels/email-feedback.ts';
import { omniaIdFromMessageId } from '../../src/channels/email.ts';

const crlf = (lines: string[]) => lines.join('\r\n');

// A Postfix-style hard bounce: the original message's headers attached as text/rfc822-headers.
const POSTFIX_DSN = crlf([
  'Return-Path: <>',
  'Received: by mx.mail.shop.example (Postfix) id 4XyZ1; Tue, 14 May 2024 10:02:11 +0000 (UTC)',
  'Date: Tue, 14 May 2024 10:02:11 +0000 (UTC)',
  'From: MAILER-DAEMON@mx.mail.shop.example (Mail Delivery System)',
  'Subject: Undelivered Mail Returned to Sender',
  'To: bounces@mail.shop.example',
  'Auto-Submitted: auto-replied',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=delivery-status;',
  '\tboundary="4XyZ1.1715680931/mx.mail.shop.example"',
  'Message-Id: <20240514100211.4XyZ1@mx.mail.shop.example>',
  '',
  'This is a MIME-encapsulated message.',
  '',
  '--4XyZ1.1715680931/mx.mail.shop.example',
  'Content-Description: Notification',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'This is the mail system at host mx.mail.shop.example.',
  '',
  "I'm sorry to have to inform you that your message could not",
  'be delivered to one or more recipients.',
  '',
  '<nobody@example.net>: host mx1.example.net[192.0.2.25] said: 550 5.1.1',
  '    <nobody@example.net>: Recipient address rejected: User unknown (in reply to',
  '    RCPT TO command)',
  '',
  '--4XyZ1.1715680931/mx.mail.shop.example',
  'Content-Description: Delivery report',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; mx.mail.shop.example',
  'X-Postfix-Queue-ID: 4XyZ1',
  'X-Postfix-Sender: rfc822; bounces@mail.shop.example',
  'Arrival-Date: Tue, 14 May 2024 10:02:10 +0000 (UTC)',
  '',
  'Final-Recipient: rfc822; nobody@example.net',
  'Original-Recipient: rfc822;Nobody@Example.net',
  'Action: failed',
  'Status: 5.1.1',
  'Remote-MTA: dns; mx1.example.net',
  'Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.net>: Recipient address',
  '    rejected: User unknown',
  '',
  '--4XyZ1.1715680931/mx.mail.shop.example',
  'Content-Description: Undelivered Message Headers',
  'Content-Type: text/rfc822-headers',
  '',
  'Received: from omnia (unknown [198.51.100.7]) by mx.mail.shop.example (Postfix) with ESMTPS id 4XyZ1',
  'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=mail.shop.example; s=s2024;',
  ' h=from:subject:message-id; bh=abc=; b=def=',
  'From: Shop Example <news@mail.shop.example>',
  'To: nobody@example.net',
  'Subject: Your cart misses you',
  'Message-ID: <msg_01hx9k2m3n@mail.shop.example>',
  'X-Omnia-Message-Id: msg_01hx9k2m3n',
  'Date: Tue, 14 May 2024 10:02:10 +0000',
  'MIME-Version: 1.0',
  '',
  '--4XyZ1.1715680931/mx.mail.shop.example--',
  '',
]);

// A soft bounce (delayed) with the whole original attached as message/rfc822.
const DELAYED_DSN = crlf([
  'From: Mail Delivery Subsystem <MAILER-DAEMON@relay.example.org>',
  'To: <bounces@mail.shop.example>',
  'Subject: Warning: message delayed 4 hours',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type="delivery-status"; boundary="=_dsn_42"',
  '',
  '--=_dsn_42',
  'Content-Type: text/plain',
  '',
  'Your message has not been delivered yet. The server will keep trying.',
  '--=_dsn_42',
  'Content-Type: message/delivery-status',
  '',
  'Reporting-MTA: dns; relay.example.org',
  '',
  'Final-Recipient: RFC822; slow@example.org',
  'Action: delayed',
  'Status: 4.4.7',
  'Will-Retry-Until: Fri, 17 May 2024 10:00:00 +0000',
  '',
  '--=_dsn_42',
  'Content-Type: message/rfc822',
  '',
  'From: Shop Example <news@mail.shop.example>',
  'To: slow@example.org',
  'Subject: Order shipped',
  'Message-ID: <msg_01hxaaaa@mail.shop.example>',
  'Content-Type: text/plain',
  '',
  'Your order is on its way.',
  '--=_dsn_42--',
  '',
]);

// An ARF abuse report as a mailbox provider's feedback loop sends it (RFC 5965 §3 example, adapted).
const ARF = crlf([
  'From: <abuse@isp.example>',
  'Date: Thu, 8 Mar 2024 14:00:00 EDT',
  'Subject: FW: Your cart misses you',
  'To: <fbl@mail.shop.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/report; report-type=feedback-report;',
  '     boundary="part1_13d.2e68ed54_boundary"',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: text/plain; charset="US-ASCII"',
  'Content-Transfer-Encoding: 7bit',
  '',
  'This is an email abuse report for an email message received from IP',
  '198.51.100.7 on Thu, 8 Mar 2024 14:00:00 EDT.',
  'For more information about this format please see',
  'http://www.mipassoc.org/arf/.',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: message/feedback-report',
  '',
  'Feedback-Type: abuse',
  'User-Agent: SomeGenerator/1.0',
  'Version: 1',
  'Original-Mail-From: <bounces@mail.shop.example>',
  'Original-Rcpt-To: <complainer@isp.example>',
  'Arrival-Date: Thu, 8 Mar 2024 14:00:00 EDT',
  'Reporting-MTA: dns; mail.isp.example',
  'Source-IP: 198.51.100.7',
  'Authentication-Results: mail.isp.example;',
  '        spf=pass smtp.mail=bounces@mail.shop.example',
  'Reported-Domain: mail.shop.example',
  '',
  '--part1_13d.2e68ed54_boundary',
  'Content-Type: message/rfc822',
  'Content-Disposition: inline',
  '',
  'From: Shop Example <news@mail.shop.example>',
  'Received: from omnia (198.51.100.7) by mail.isp.example',
  'To: Complainer <complainer@isp.example>',
  'Subject: Your cart misses you',
  'Message-ID: <msg_01hxcomplaint@mail.shop.example>',
  'Date: Thu, 8 Mar 2024 13:59:00 EDT',
  '',
  'Hi, your cart misses you.',
  '',
  '--part1_13d.2e68ed54_boundary--',
  '',
]);

describe('email feedback parsing', () => {
  it('reads a hard bounce DSN: recipient, status, action, the original Message-ID', async () => {
    const f = await parseEmailFeedback(POSTFIX_DSN);
    expect(f).toMatchObject({
      kind: 'bounce',
      recipient: 'Nobody@Example.net',
      originalMessageId: '<msg_01hx9k2m3n@mail.shop.example>',
      omniaMessageId: 'msg_01hx9k2m3n',
      status: '5.1.1',
      action: 'failed',
      permanent: true,
    });
    expect(f.diagnosticCode).toMatch(/^smtp; 550 5\.1\.1 .*User unknown$/);
    expect(omniaIdFromMessageId(f.originalMessageId!, 'mail.shop.example')).toBe('msg_01hx9k2m3n');
  });

  it('reads a delayed DSN as a non-permanent bounce, original from message/rfc822', async () => {
    const f = await parseEmailFeedback(Buffer.from(DELAYED_DSN));
    expect(f).toMatchObject({ kind: 'bounce', recipient: 'slow@example.org', originalMessageId: '<msg_01hxaaaa@mail.shop.example>', status: '4.4.7', action: 'delayed', permanent: false });
  });

  it('reads an ARF complaint: recipient and original Message-ID, permanent', async () => {
    const f = await parseEmailFeedback(ARF);
    expect(f).toMatchObject({ kind: 'complaint', recipient: 'complainer@isp.example', originalMessageId: '<msg_01hxcomplaint@mail.shop.example>', feedbackType: 'abuse', permanent: true });
  });

  it('falls back to the original To when the report redacts Original-Rcpt-To', async () => {
    const f = await parseEmailFeedback(ARF.replace('Original-Rcpt-To: <complainer@isp.example>\r\n', ''));
    expect(f).toMatchObject({ kind: 'complaint', recipient: 'complainer@isp.example' });
  });

  it('reports anything else as unknown', async () => {
    const plain = crlf(['From: someone@example.org', 'To: news@mail.shop.example', 'Subject: Re: Your cart', 'Message-ID: <r1@example.org>', '', 'Thanks, I bought it!', '']);
    expect(await parseEmailFeedback(plain)).toEqual({ kind: 'unknown', permanent: false });
    const delivered = POSTFIX_DSN.replace('Action: failed', 'Action: delivered').replace('Status: 5.1.1', 'Status: 2.0.0');
    expect(await parseEmailFeedback(delivered)).toMatchObject({ kind: 'unknown', action: 'delivered', permanent: false });
  });
});
