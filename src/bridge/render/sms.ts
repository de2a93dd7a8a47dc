/**
 * SMS length as carriers count it. Text entirely in the GSM 03.38 alphabet travels as 7-bit
 * septets (160 in one segment, 153 per segment of a longer message; the extension characters take
 * two); anything else makes the whole message UCS-2 (70 UTF-16 units, 67 per segment when split).
 */

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsLength {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

const SINGLE = { 'GSM-7': 160, 'UCS-2': 70 };
const PER_PART = { 'GSM-7': 153, 'UCS-2': 67 };

export function smsLength(text: string): SmsLength {
  let septets = 0;
  for (const char of text) {
    if (BASIC.has(char)) septets += 1;
    else if (EXTENDED.has(char)) septets += 2;
    else return sized('UCS-2', text.length);
  }
  return sized('GSM-7', septets);
}

function sized(encoding: SmsEncoding, units: number): SmsLength {
  const segments = units <= SINGLE[encoding] ? 1 : Math.ceil(units / PER_PART[encoding]);
  return { encoding, units, segments: Math.max(1, segments) };
}

/**
 * The text cut to at most `maxSegments` segments, ending in "..." when cut. Characters are never
 * split (an extension character or a surrogate pair stays whole).
 */
export function fitSms(text: string, maxSegments: number): string {
  const length = smsLength(text);
  if (length.segments <= maxSegments) return text;
  const budget = maxSegments === 1 ? SINGLE[length.encoding] : PER_PART[length.encoding] * maxSegments;
  const marker = '...';
  let used = marker.length;
  let out = '';
  for (const char of text) {
    const cost = length.encoding === 'UCS-2' ? char.length : EXTENDED.has(char) ? 2 : 1;
    if (used + cost > budget) break;
    used += cost;
    out += char;
  }
  return `${out.trimEnd()}${marker}`;
}
