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

interface TypedArrayType<T> {
  new (length: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/**
 * Where a model's parts take their typed arrays from. Each typed array of its own costs a
 * backing store and its bookkeeping besides the numbers (about 2.6 KiB of RSS per series for
 * the default model's nine arrays, more than the 2.4 KiB they hold), and so does an ArrayBuffer
 * per model (its object, its native backing store, its allocation: about 0.3 KiB). Once the size
 * of a model is known (`bytes` after building one), its parts are views into one block of a
 * StateBlocks.
 */
export class StateArrays {
  private offset = 0;

  /** `block`: where the arrays go, taken from StateBlocks; without it, arrays of their own. */
  constructor(private readonly block?: { buffer: ArrayBuffer; offset: number; bytes: number }) {}

  /** Bytes taken so far (each array starts 8-byte aligned). */
  get bytes(): number {
    return this.offset;
  }

  float64(length: number): Float64Array {
    return this.view(Float64Array, length);
  }

  float32(length: number): Float32Array {
    return this.view(Float32Array, length);
  }

  int32(length: number): Int32Array {
    return this.view(Int32Array, length);
  }

  uint32(length: number): Uint32Array {
    return this.view(Uint32Array, length);
  }

  uint8(length: number): Uint8Array {
    return this.view(Uint8Array, length);
  }

  private view<T>(type: TypedArrayType<T>, length: number): T {
    const at = this.take(length * type.BYTES_PER_ELEMENT);
    return this.block ? new type(this.block.buffer, this.block.offset + at, length) : new type(length);
  }

  private take(bytes: number): number {
    const at = this.offset;
    this.offset += Math.ceil(bytes / 8) * 8;
    if (this.block && this.offset > this.block.bytes)
      throw new RangeError('a model took more state than the same settings did before');
    return at;
  }
}

/** Bytes of one chunk the blocks are cut from. */
const CHUNK_BYTES = 1 << 20;

/**
 * Blocks of the same size (one model's state) cut from shared ArrayBuffers of about 1 MiB, so
 * that a model costs its bytes and its views, not an ArrayBuffer of its own. A released block
 * goes to the next model taken, zeroed as a new ArrayBuffer would be; chunks are never freed, so
 * the memory of a rule's models stays at the most series it has had at once.
 */
export class StateBlocks {
  private readonly chunks: ArrayBuffer[] = [];
  private readonly perChunk: number;
  private readonly released: number[] = [];
  /** Blocks cut so far. */
  private cut = 0;

  constructor(readonly blockBytes: number) {
    this.perChunk = Math.max(1, Math.floor(CHUNK_BYTES / Math.max(blockBytes, 8)));
  }

  /** A zeroed block and its number (for `release`). */
  take(): { arrays: StateArrays; block: number } {
    let block = this.released.pop();
    if (block === undefined) {
      block = this.cut++;
      if (block % this.perChunk === 0) this.chunks.push(new ArrayBuffer(this.perChunk * this.blockBytes));
    }
    const buffer = this.chunks[Math.floor(block / this.perChunk)];
    const offset = (block % this.perChunk) * this.blockBytes;
    new Uint8Array(buffer, offset, this.blockBytes).fill(0);
    return { arrays: new StateArrays({ buffer, offset, bytes: this.blockBytes }), block };
  }

  /** Gives a block back: whatever still views it must no longer be used. */
  release(block: number): void {
    this.released.push(block);
  }
}
