/**
 * Group commit: an item added while no commit runs is committed at once, alone; items added while a
 * commit runs wait and are committed together by the next one. A burst of n costs two commits, not
 * n, and no item waits for more than the commit in flight plus its own. Each add() settles with
 * its own group's commit: resolved once that commit succeeded, rejected with its error.
 */
export class GroupCommit<T> {
  private draining: Promise<void> | undefined;
  private waiting: Group<T> | undefined;

  constructor(private readonly commit: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    this.waiting ??= newGroup<T>();
    this.waiting.items.push(item);
    const { done } = this.waiting;
    this.draining ??= this.drain();
    return done;
  }

  /** Resolves once every item added so far has been committed or has failed. */
  async settled(): Promise<void> {
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.waiting !== undefined) {
      const group = this.waiting;
      this.waiting = undefined;
      try {
        await this.commit(group.items);
        group.resolve();
      } catch (err) {
        group.reject(err);
      }
    }
    this.draining = undefined;
  }
}

interface Group<T> {
  items: T[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function newGroup<T>(): Group<T> {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { items: [], done, resolve, reject };
}
