import { randomBytes } from 'node:crypto';

// Time-ordered ids (like ULIDs): 10 chars of millisecond time + 12 random chars in Crockford base32.
// Sorting by id sorts by creation time, which "oldest survives" and cursors rely on.
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export function newId(prefix: string, now = Date.now()): string {
  let t = now;
  let time = '';
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(12);
  let rand = '';
  for (let i = 0; i < 12; i++) rand += ALPHABET[bytes[i]! % 32];
  return `${prefix}_${time}${rand}`;
}
