// The rendered template as the person would see it: an email in a sandboxed iframe at phone (390 px) or desktop width,
// an SMS bubble with its encoding / characters / segments, a push notification mock, an onsite banner or modal.
import type { ReactNode } from 'react';
import './editor.css';

/** Capacity of a message of n segments: 160 / 70 characters in one, 153 / 67 per segment beyond. */
export function smsCapacity(encoding: string, segments: number) {
  const [single, part] = encoding === 'UCS-2' ? [70, 67] : [160, 153];
  return segments <= 1 ? single : segments * part;
}

export function RenderedPreview({ content, width }: { content: any; width: 'phone' | 'desktop' }): ReactNode {
  const c = content;
  if (c?.channel === 'email' && c.email) {
    return (
      <>
        <p className="te-subject">
          <strong>{c.email.subject}</strong> <span className="muted">{c.email.preheader}</span>
        </p>
        <div className="te-frame-wrap">
          <iframe className="email-frame" title="Email preview" sandbox="" srcDoc={c.email.html ?? ''} data-width={width} style={{ width: width === 'phone' ? 390 : '100%' }} />
        </div>
      </>
    );
  }
  if (c?.channel === 'sms' && c.sms) {
    const s = c.sms;
    return (
      <div>
        <div className="te-phone">
          <p className="te-bubble">{s.body}</p>
        </div>
        <p className="te-counter" data-testid="sms-count">
          {s.encoding} · <strong>{s.units}</strong> characters · <strong>{s.segments}</strong> segment{s.segments === 1 ? '' : 's'}
          <span className="muted"> ({Math.max(0, smsCapacity(s.encoding, s.segments) - s.units)} left before the next segment)</span>
        </p>
        {s.encoding === 'UCS-2' ? <p className="hint">A character outside GSM-7 (an emoji, a curly quote) makes each segment hold 70 characters instead of 160.</p> : null}
      </div>
    );
  }
  if (c?.channel === 'push' && c.push) {
    return (
      <div className="te-push" role="img" aria-label={`Notification: ${c.push.title}. ${c.push.body}`}>
        <span className="te-push-icon" aria-hidden="true" />
        <div>
          <strong>{c.push.title}</strong>
          <p>{c.push.body}</p>
          {c.push.url ? <span className="muted small">{c.push.url}</span> : null}
        </div>
      </div>
    );
  }
  if (c?.channel === 'onsite' && c.onsite) {
    return (
      <div className={`te-onsite te-onsite-${c.onsite.kind}`} data-kind={c.onsite.kind}>
        <strong>{c.onsite.title}</strong>
        <iframe title="Onsite message body" sandbox="" srcDoc={c.onsite.html ?? ''} />
      </div>
    );
  }
  if (c?.channel === 'webhook' && c.webhook) {
    let body = c.webhook.body;
    try {
      body = JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      /* shown as it is */
    }
    return <pre className="code">{body}</pre>;
  }
  return <pre className="code">{JSON.stringify(c, null, 2)}</pre>;
}
