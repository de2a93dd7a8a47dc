import { outcomeOf, type SpoolEntry } from './spool';

/**
 * What the bridge remembers of finished notifications: the last `size` for the status page, the
 * delivered ones still in the spool (pruned once their dedup window has passed) and the count of
 * dead letters, all of them, not only those still shown.
 */
export class StatusHistory {
  /** The last `size` finished entries, oldest first; older ones are not kept in memory. */
  private readonly finished: SpoolEntry[] = [];
  /** Delivered or superseded entries still in the spool, oldest first. */
  private readonly done: Array<{ id: string; receivedAt: number }> = [];
  private deadLetterCount = 0;

  constructor(private readonly size: number) {}

  /** Finished entries from a previous run, oldest first. */
  load(finished: SpoolEntry[]): void {
    for (const entry of finished) this.record(entry);
    this.deadLetterCount = finished.filter((e) => outcomeOf(e) === 'dead').length;
  }

  /** A finished entry; `deadLettered` when it has just been moved to dead/. */
  record(entry: SpoolEntry, deadLettered = false): void {
    this.finished.push(entry);
    if (this.finished.length > this.size) this.finished.shift();
    if (outcomeOf(entry) === 'done') {
      this.done.push({ id: entry.id, receivedAt: entry.receivedAt });
    }
    if (deadLettered) this.deadLetterCount++;
  }

  /** Newest first. */
  recent(): SpoolEntry[] {
    return [...this.finished].reverse();
  }

  /** Notifications in dead/. */
  deadLetters(): number {
    return this.deadLetterCount;
  }

  /**
   * Takes the ids of delivered entries that may go: past `windowMs`, except the newest `size`, which stay on
   * disk so the status page has them after a restart.
   */
  takeExpiredDone(now: number, windowMs: number): string[] {
    const expired = this.done.length - this.size;
    let count = 0;
    while (count < expired && now - this.done[count].receivedAt >= windowMs) count++;
    return this.done.splice(0, count).map((e) => e.id);
  }
}
