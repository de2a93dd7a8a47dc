import { GroupCommit } from '../../src/common/group-commit';

/** A commit function whose calls the test finishes by hand. */
function manualCommits() {
  const calls: Array<{ items: number[]; finish: (err?: Error) => void }> = [];
  const commit = (items: number[]) =>
    new Promise<void>((resolve, reject) => {
      calls.push({ items: [...items], finish: (err) => (err ? reject(err) : resolve()) });
    });
  return { calls, commit };
}

const settled = async (promise: Promise<void>) => {
  let state = 'pending';
  promise.then(
    () => (state = 'resolved'),
    () => (state = 'rejected'),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

describe('GroupCommit', () => {
  it('commits an item at once when idle, and the items arriving meanwhile together in the next commit', async () => {
    const { calls, commit } = manualCommits();
    const group = new GroupCommit(commit);
    const first = group.add(1);
    const rest = [group.add(2), group.add(3), group.add(4)];
    expect(calls.map((c) => c.items)).toEqual([[1]]);

    calls[0].finish();
    expect(await settled(first)).toBe('resolved');
    // The second group is not acknowledged by the first group's commit.
    expect(await settled(rest[0])).toBe('pending');
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3, 4]]);

    calls[1].finish();
    expect(await Promise.all(rest.map(settled))).toEqual(['resolved', 'resolved', 'resolved']);
    expect(calls).toHaveLength(2);
  });

  it("rejects every item of a failed group with its error, and only that group's", async () => {
    const { calls, commit } = manualCommits();
    const group = new GroupCommit(commit);
    const first = group.add(1);
    const second = [group.add(2), group.add(3)];
    calls[0].finish();
    await first;
    const third = group.add(4); // arrives while the second group commits
    calls[1].finish(new Error('EIO: i/o error, fsync'));
    await Promise.all(second.map((p) => expect(p).rejects.toThrow('EIO')));
    expect(calls.map((c) => c.items)).toEqual([[1], [2, 3], [4]]);
    calls[2].finish();
    await expect(third).resolves.toBeUndefined();
  });

  it('starts a new commit at once after going idle', async () => {
    const { calls, commit } = manualCommits();
    const group = new GroupCommit(commit);
    const first = group.add(1);
    calls[0].finish();
    await first;
    const later = group.add(2);
    expect(calls.map((c) => c.items)).toEqual([[1], [2]]);
    calls[1].finish();
    await expect(later).resolves.toBeUndefined();
  });

  it('settles once every item added so far is committed, failed ones included', async () => {
    const { calls, commit } = manualCommits();
    const group = new GroupCommit(commit);
    const items = [group.add(1), group.add(2)];
    items[1].catch(() => undefined);
    const all = group.settled();
    calls[0].finish();
    await items[0];
    expect(await settled(all)).toBe('pending');
    calls[1].finish(new Error('EIO'));
    expect(await settled(all)).toBe('resolved');
    // Idle: nothing to wait for.
    expect(await settled(group.settled())).toBe('resolved');
  });
});
