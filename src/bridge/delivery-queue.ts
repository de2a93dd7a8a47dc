import type { DeliveryRecord, SpoolEntry } from './spool';

export interface ScheduledDelivery {
  entry: SpoolEntry;
  delivery: DeliveryRecord;
  /** Holds a slot of its channel's rate limit: goes when due without asking again. */
  admitted?: boolean;
}

/**
 * Pending deliveries not in flight, earliest attempt first: a binary min-heap on nextAttemptAt, so
 * thousands of queued deliveries cost log n per step, not n.
 */
export class DeliveryQueue {
  private readonly heap: ScheduledDelivery[] = [];

  peek(): ScheduledDelivery | undefined {
    return this.heap[0];
  }

  push(item: ScheduledDelivery): void {
    const heap = this.heap;
    heap.push(item);
    for (let i = heap.length - 1; i > 0;) {
      const parent = (i - 1) >> 1;
      if (dueAt(heap[parent]) <= dueAt(heap[i])) break;
      [heap[parent], heap[i]] = [heap[i], heap[parent]];
      i = parent;
    }
  }

  pop(): ScheduledDelivery | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last !== undefined) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    for (let i = start; ;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < heap.length && dueAt(heap[left]) < dueAt(heap[smallest])) smallest = left;
      if (right < heap.length && dueAt(heap[right]) < dueAt(heap[smallest])) smallest = right;
      if (smallest === i) return;
      [heap[smallest], heap[i]] = [heap[i], heap[smallest]];
      i = smallest;
    }
  }
}

function dueAt(item: ScheduledDelivery): number {
  return item.delivery.nextAttemptAt;
}
