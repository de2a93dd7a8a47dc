/**
 * Models save their state as bytes (for the detector's snapshot file): their typed arrays as
 * they are, their scalars packed into a Float64Array (NaN and ±Infinity survive, unlike JSON).
 */

export function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** `count` float64 values starting at byte `offset` (copied, so alignment never matters). */
export function float64s(bytes: Uint8Array, offset: number, count: number): Float64Array {
  if (offset + count * 8 > bytes.byteLength) throw new RangeError('saved state is truncated');
  return new Float64Array(bytes.slice(offset, offset + count * 8).buffer);
}

export function float32s(bytes: Uint8Array, offset: number, count: number): Float32Array {
  if (offset + count * 4 > bytes.byteLength) throw new RangeError('saved state is truncated');
  return new Float32Array(bytes.slice(offset, offset + count * 4).buffer);
}
