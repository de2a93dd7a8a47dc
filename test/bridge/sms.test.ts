import { fitSms, smsLength } from '../../src/bridge/render/sms';

describe('SMS segments (GSM-7 and UCS-2)', () => {
  it.each([
    ['a'.repeat(160), { encoding: 'GSM-7', units: 160, segments: 1 }],
    ['a'.repeat(161), { encoding: 'GSM-7', units: 161, segments: 2 }],
    ['a'.repeat(306), { encoding: 'GSM-7', units: 306, segments: 2 }],
    ['a'.repeat(307), { encoding: 'GSM-7', units: 307, segments: 3 }],
    // Extension characters take two septets.
    ['€'.repeat(80), { encoding: 'GSM-7', units: 160, segments: 1 }],
    ['[]'.repeat(40) + 'x', { encoding: 'GSM-7', units: 161, segments: 2 }],
    ['Müller ñ é à Ø Δ', { encoding: 'GSM-7', units: 16, segments: 1 }],
    // One character outside GSM-7 makes the whole message UCS-2.
    ['a'.repeat(69) + 'ç', { encoding: 'UCS-2', units: 70, segments: 1 }],
    ['a'.repeat(70) + 'ç', { encoding: 'UCS-2', units: 71, segments: 2 }],
    // A surrogate pair is two UTF-16 units.
    ['🔥'.repeat(35), { encoding: 'UCS-2', units: 70, segments: 1 }],
  ])('%s', (text, expected) => {
    expect(smsLength(text)).toEqual(expected);
  });

  it('cuts to the segments allowed, ending in "...", never splitting a character', () => {
    const gsm = fitSms('x'.repeat(200), 1);
    expect(gsm).toHaveLength(160);
    expect(gsm.endsWith('...')).toBe(true);
    expect(fitSms('x'.repeat(200), 2)).toBe('x'.repeat(200));
    const emoji = fitSms('🔥'.repeat(50), 1);
    expect(smsLength(emoji)).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(emoji).toBe(`${'🔥'.repeat(33)}...`);
    const ext = fitSms(`${'a'.repeat(156)}€€€`, 1);
    expect(smsLength(ext).units).toBeLessThanOrEqual(160);
    expect(ext).toBe(`${'a'.repeat(156)}...`);
    expect(fitSms('short', 1)).toBe('short');
  });
});
