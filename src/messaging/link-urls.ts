// The signed links of one message: open pixel, click redirects, one-click unsubscribe (also as a mailto), the
// preference centre. Tokens carry (workspace, message, person, topic, channel) and are bound to their purpose.
import { signToken } from './links/index.ts';

export interface LinkClaims {
  ws: string;
  m: string;
  p: string;
  t: string;
  c: string;
}

/** Unsubscribe and preference links stay valid long after the message (people unsubscribe from old mail). */
const PREFERENCE_LINK_MS = 400 * 86_400_000;

export function linkUrls(publicUrl: string, key: Buffer, claims: LinkClaims, now = Date.now()) {
  // The workspace is in the path (its key verifies the token); ids are not secrets, the MAC is what protects a link.
  const base = `${publicUrl.replace(/\/+$/, '')}`;
  const ws = encodeURIComponent(claims.ws);
  const claimsRecord = { ...claims } as Record<string, string>;
  const unsubToken = signToken(key, 'unsubscribe', claimsRecord, { expiresAt: now + PREFERENCE_LINK_MS });
  const prefToken = signToken(key, 'preferences', claimsRecord, { expiresAt: now + PREFERENCE_LINK_MS });
  return {
    open: `${base}/t/o/${ws}/${signToken(key, 'open', claimsRecord)}.gif`,
    click: (url: string) => `${base}/t/c/${ws}/${signToken(key, 'click', { ...claimsRecord, u: url })}`,
    unsubscribe: `${base}/u/${ws}/${unsubToken}`,
    preferences: `${base}/p/${ws}/${prefToken}`,
    /** RFC 2369 + RFC 8058 headers: mailto (token in the subject) and the one-click https link. */
    listUnsubscribeHeaders: (senderEmail: string) => {
      const domain = /^[A-Za-z0-9.-]+$/.test(senderEmail.split('@')[1] ?? '') ? senderEmail.split('@')[1]! : 'localhost';
      return {
        'List-Unsubscribe': `<mailto:unsubscribe@${domain}?subject=unsubscribe%20${unsubToken}>, <${base}/u/${ws}/${unsubToken}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      };
    },
    unsubscribeMailto: (senderEmail: string) => {
      const domain = senderEmail.split('@')[1] ?? 'localhost';
      // The token goes in the subject: in the local part it would break RFC 5321's 64-octet limit.
      return `mailto:unsubscribe@${domain}?subject=unsubscribe%20${unsubToken}`;
    },
  };
}
