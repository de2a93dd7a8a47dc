/**
 * A multiset of numbers with rank queries: insert, remove and select(k) in O(log n) expected
 * (a treap with subtree sizes). The rolling robust z-score keeps its window here so that the
 * median and the MAD of a sliding window cost O(log window) and O(log² window) per point
 * instead of a sort.
 *
 * Nodes live in typed arrays sized once for the window, so a series' state is a few flat
 * buffers (cheap for the garbage collector with tens of thousands of series).
 */
import { StateArrays } from './state-bytes';

const NIL = -1;

export class OrderStatisticTree {
  private readonly value: Float64Array;
  private readonly priority: Uint32Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly size: Int32Array;
  private readonly free: Int32Array;
  private freeCount: number;
  private root = NIL;
  private seed: number;

  constructor(
    readonly capacity: number,
    arrays = new StateArrays(),
  ) {
    this.value = arrays.float64(capacity);
    this.priority = arrays.uint32(capacity);
    this.left = arrays.int32(capacity);
    this.right = arrays.int32(capacity);
    this.size = arrays.int32(capacity);
    this.free = arrays.int32(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.freeCount = capacity;
    // A fixed seed keeps runs reproducible; the priorities only need to look random.
    this.seed = 0x9e3779b9 ^ capacity;
  }

  get count(): number {
    return this.root === NIL ? 0 : this.size[this.root];
  }

  insert(x: number): void {
    if (this.freeCount === 0) throw new RangeError(`order-statistic tree full (capacity ${this.capacity})`);
    const node = this.free[--this.freeCount];
    this.value[node] = x;
    this.priority[node] = this.nextPriority();
    this.left[node] = NIL;
    this.right[node] = NIL;
    this.size[node] = 1;
    const [lower, upper] = this.split(this.root, x);
    this.root = this.merge(this.merge(lower, node), upper);
  }

  /** Removes one occurrence of x; returns false when x is not present. */
  remove(x: number): boolean {
    let node = this.root;
    while (node !== NIL && this.value[node] !== x)
      node = x < this.value[node] ? this.left[node] : this.right[node];
    if (node === NIL) return false;
    // The same walk again, now shrinking every ancestor by the node that leaves.
    let parent = NIL;
    let walk = this.root;
    while (walk !== node) {
      this.size[walk]--;
      parent = walk;
      walk = x < this.value[walk] ? this.left[walk] : this.right[walk];
    }
    const replacement = this.merge(this.left[node], this.right[node]);
    if (parent === NIL) this.root = replacement;
    else if (this.left[parent] === node) this.left[parent] = replacement;
    else this.right[parent] = replacement;
    this.free[this.freeCount++] = node;
    return true;
  }

  /** The k-th smallest value, k from 0. */
  select(k: number): number {
    let node = this.root;
    for (;;) {
      const leftSize = this.left[node] === NIL ? 0 : this.size[this.left[node]];
      if (k < leftSize) node = this.left[node];
      else if (k === leftSize) return this.value[node];
      else {
        k -= leftSize + 1;
        node = this.right[node];
      }
    }
  }

  /** Median (mean of the two middle values for an even count); NaN when empty. */
  median(): number {
    const n = this.count;
    if (n === 0) return NaN;
    const mid = n >> 1;
    return n % 2 === 1 ? this.select(mid) : (this.select(mid - 1) + this.select(mid)) / 2;
  }

  /**
   * Median absolute deviation around `center` (which must be this set's median). The distances
   * below and above the median form two sorted sequences, so the MAD is the k-th smallest of
   * their union: a binary search over k with O(log n) selects, O(log² n) in all.
   */
  medianAbsoluteDeviation(center: number): number {
    const n = this.count;
    if (n === 0) return NaN;
    const half = n >> 1;
    return n % 2 === 1
      ? this.kthDistance(center, half)
      : (this.kthDistance(center, half - 1) + this.kthDistance(center, half)) / 2;
  }

  /**
   * k-th smallest |x - center| (k from 0). With mid = ⌊n/2⌋, the distances below the median,
   * center - x[mid-1-i], and above it, x[mid+j] - center, are two ascending sequences: binary
   * search on how many of the k + 1 smallest come from the lower one.
   */
  private kthDistance(center: number, k: number): number {
    const n = this.count;
    const mid = n >> 1;
    const belowCount = mid;
    const aboveCount = n - mid;
    let lo = Math.max(0, k + 1 - aboveCount);
    let hi = Math.min(k + 1, belowCount);
    while (lo < hi) {
      const fromBelow = (lo + hi) >> 1;
      const fromAbove = k + 1 - fromBelow;
      // Too few from below when its next distance is smaller than the last one taken from above.
      if (
        fromAbove > 0 &&
        center - this.select(mid - 1 - fromBelow) < this.select(mid + fromAbove - 1) - center
      ) {
        lo = fromBelow + 1;
      } else hi = fromBelow;
    }
    const fromAbove = k + 1 - lo;
    const lastBelow = lo > 0 ? center - this.select(mid - lo) : -Infinity;
    const lastAbove = fromAbove > 0 ? this.select(mid + fromAbove - 1) - center : -Infinity;
    return Math.max(lastBelow, lastAbove);
  }

  private nextPriority(): number {
    // xorshift32
    let s = this.seed;
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    this.seed = s >>> 0;
    return this.seed;
  }

  private update(node: number): void {
    const l = this.left[node];
    const r = this.right[node];
    this.size[node] = 1 + (l === NIL ? 0 : this.size[l]) + (r === NIL ? 0 : this.size[r]);
  }

  /** Splits into (< x, >= x). */
  private split(node: number, x: number): [number, number] {
    if (node === NIL) return [NIL, NIL];
    if (this.value[node] < x) {
      const [l, r] = this.split(this.right[node], x);
      this.right[node] = l;
      this.update(node);
      return [node, r];
    }
    const [l, r] = this.split(this.left[node], x);
    this.left[node] = r;
    this.update(node);
    return [l, node];
  }

  private merge(a: number, b: number): number {
    if (a === NIL) return b;
    if (b === NIL) return a;
    if (this.priority[a] > this.priority[b]) {
      this.right[a] = this.merge(this.right[a], b);
      this.update(a);
      return a;
    }
    this.left[b] = this.merge(a, this.left[b]);
    this.update(b);
    return b;
  }
}
