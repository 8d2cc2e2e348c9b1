// SMS length accounting (GSM 03.38) and the opt-out footer helper.
//
// GSM-7: the basic table costs 1 septet per character, the extension table (via ESC) 2. Anything else forces UCS-2,
// where each UTF-16 code unit costs 1 (so an emoji, a surrogate pair, costs 2). One message holds 160 septets / 70
// units; a multipart message carries a header, leaving 153 / 67 per segment. A segment never splits an extension
// character or a surrogate pair, so segments are counted by packing, not by dividing.

// The basic table in code order, without ESC (0x1B, the escape to the extension table).
const GSM_BASIC = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(Array.from(GSM_BASIC));
const EXTENSION = new Set(Array.from(GSM_EXTENSION));

export interface SmsCount {
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
}

/** Segments needed to carry characters of the given sizes, `single` fitting one message and `part` per segment. */
function pack(sizes: number[], single: number, part: number): number {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  if (total <= single) return 1;
  let segments = 1;
  let used = 0;
  for (const s of sizes) {
    if (used + s > part) {
      segments++;
      used = 0;
    }
    used += s;
  }
  return segments;
}

/** The characters of `text` that force UCS-2 (for warnings: "the ’ in …"). */
export function nonGsmCharacters(text: string): string[] {
  return [...new Set(Array.from(text).filter((c) => !BASIC.has(c) && !EXTENSION.has(c)))];
}

export function smsSegments(text: string): SmsCount {
  const chars = Array.from(text);
  const gsm = chars.every((c) => BASIC.has(c) || EXTENSION.has(c));
  if (gsm) {
    const sizes = chars.map((c) => (EXTENSION.has(c) ? 2 : 1));
    return { encoding: 'GSM-7', segments: pack(sizes, 160, 153), units: sizes.reduce((a, b) => a + b, 0) };
  }
  const sizes = chars.map((c) => c.length); // 2 for a surrogate pair
  return { encoding: 'UCS-2', segments: pack(sizes, 70, 67), units: text.length };
}

/**
 * Appends an opt-out line ("Reply STOP to opt out") on its own line, unless the body already mentions STOP.
 * Rendering never does this by itself: whether the law requires it depends on the country and the message.
 */
export function withOptOutFooter(body: string, text = 'Reply STOP to opt out'): string {
  if (/\bSTOP\b/.test(body)) return body;
  const trimmed = body.replace(/\s+$/, '');
  return trimmed ? `${trimmed}\n${text}` : text;
}
