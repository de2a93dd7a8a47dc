import { randomBytes } from 'node:crypto';

/**
 * Rendered graphs for channels that link images rather than attach them (GET /graph/<id>.png).
 * Ids are 128 random bits, so a link can't be guessed from another; entries expire after `ttlMs`
 * and the oldest go first past `maxEntries`, bounding memory.
 */
export class GraphStore {
  private readonly graphs = new Map<string, { png: Buffer; expiresAt: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  put(png: Buffer): string {
    const id = randomBytes(16).toString('base64url');
    this.graphs.set(id, { png, expiresAt: this.now() + this.ttlMs });
    while (this.graphs.size > this.maxEntries) {
      const oldest = this.graphs.keys().next().value as string;
      this.graphs.delete(oldest);
    }
    return id;
  }

  get(id: string): Buffer | undefined {
    const entry = this.graphs.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.graphs.delete(id);
      return undefined;
    }
    return entry.png;
  }

  get size(): number {
    return this.graphs.size;
  }
}
