import fs from 'node:fs';
import path from 'node:path';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { newEntryId, Spool, type SpoolEntry } from '../../src/bridge/spool';
import { tempDir } from '../helpers/tmp';
import { alertmanagerPayload } from './fixtures';

function entry(n: Notification, receivedAt = Date.now()): SpoolEntry {
  return {
    id: newEntryId(receivedAt, 'abcdef0123456789'),
    dedupKey: 'abcdef0123456789',
    receivedAt,
    route: 'default',
    notification: n,
    deliveries: [{ channel: 'mail', state: 'pending', attempts: 0, nextAttemptAt: receivedAt }],
  };
}

const parsed = parseNotification(alertmanagerPayload());
if (!parsed.ok) throw new Error(parsed.reason);
const notification = parsed.notification;

describe('spool', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => dir.remove());

  it('keeps accepted entries across a reopen, and finished ones move out of pending/', async () => {
    const { spool } = await Spool.open(dir.path);
    const a = entry(notification, 1000);
    const b = entry(notification, 2000);
    await spool.add(a);
    await spool.add(b);
    b.deliveries[0].state = 'delivered';
    await spool.finish(b);
    expect(fs.readdirSync(path.join(dir.path, 'pending'))).toEqual([`${a.id}.json`]);
    expect(fs.readdirSync(path.join(dir.path, 'done'))).toEqual([`${b.id}.json`]);

    a.deliveries[0].attempts = 3;
    await spool.save(a);
    const { contents } = await Spool.open(dir.path);
    expect(contents.pending.map((e) => e.id)).toEqual([a.id]);
    expect(contents.pending[0].deliveries[0].attempts).toBe(3);
    expect(contents.pending[0].notification).toEqual(notification);
    expect(contents.finished.map((e) => e.id)).toEqual([b.id]);
  });

  it('reports each group commit of new entries with how many it stored', async () => {
    const commits: number[] = [];
    const { spool } = await Spool.open(dir.path, {
      onCommit: (seconds, entries) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        commits.push(entries);
      },
    });
    // The first is committed alone; the four arriving during its commit share the next one.
    await Promise.all([1, 2, 3, 4, 5].map((i) => spool.add(entry(notification, i * 1000))));
    expect(commits).toEqual([1, 4]);
  });

  it('dead-letters entries with a dead delivery', async () => {
    const { spool } = await Spool.open(dir.path);
    const a = entry(notification);
    await spool.add(a);
    a.deliveries[0].state = 'dead';
    expect(await spool.finish(a)).toBe('dead');
    expect(fs.readdirSync(path.join(dir.path, 'dead'))).toEqual([`${a.id}.json`]);
  });

  it('cleans up after a crash: drops unrenamed temp files, moves corrupt files aside, completes finished moves', async () => {
    const { spool } = await Spool.open(dir.path);
    const finished = entry(notification, 3000);
    finished.deliveries[0].state = 'delivered';
    await spool.add(finished); // crashed after the final state write, before the move
    fs.writeFileSync(path.join(dir.path, 'pending', 'x.json.1234.tmp'), '{"half":');
    fs.writeFileSync(path.join(dir.path, 'pending', 'bad.json'), 'not json');
    const { contents } = await Spool.open(dir.path);
    expect(contents.pending).toEqual([]);
    expect(contents.corrupt.map((c) => c.file)).toEqual([path.join('pending', 'bad.json')]);
    expect(contents.finished.map((e) => e.id)).toEqual([finished.id]);
    expect(fs.readdirSync(path.join(dir.path, 'pending'))).toEqual([]);
    expect(fs.readdirSync(path.join(dir.path, 'corrupt'))).toEqual(['bad.json']);
  });

  it('fails loudly when the directory cannot be written', async () => {
    const { spool } = await Spool.open(dir.path);
    fs.rmSync(path.join(dir.path, 'pending'), { recursive: true });
    fs.writeFileSync(path.join(dir.path, 'pending'), 'a file where the directory was');
    await expect(spool.add(entry(notification))).rejects.toThrow();
  });

  it('leaves nothing in pending/ when storing a new entry fails, so the retried copy is the only one', async () => {
    const { spool } = await Spool.open(dir.path);
    const syncers = (spool as unknown as { syncers: Map<string, { sync(): Promise<void> }> }).syncers;
    jest.spyOn(syncers.get('pending')!, 'sync').mockRejectedValueOnce(new Error('EIO: i/o error, fsync'));
    await expect(spool.add(entry(notification, 1000))).rejects.toThrow('EIO');
    expect(fs.readdirSync(path.join(dir.path, 'pending'))).toEqual([]);
    expect((await Spool.open(dir.path)).contents.pending).toEqual([]);
  });

  it('reads an entry once when a crash left it in both done/ and pending/, keeping the final state', async () => {
    const { spool } = await Spool.open(dir.path);
    const delivered = entry(notification, 1000);
    const dead = entry(notification, 2000);
    await spool.add(delivered);
    await spool.add(dead);
    delivered.deliveries[0].state = 'delivered';
    dead.deliveries[0].state = 'dead';
    // The final state was written, then the process died before pending/<id> was removed.
    fs.writeFileSync(path.join(dir.path, 'done', `${delivered.id}.json`), JSON.stringify(delivered));
    fs.writeFileSync(path.join(dir.path, 'dead', `${dead.id}.json`), JSON.stringify(dead));

    const { contents } = await Spool.open(dir.path);
    expect(contents.pending).toEqual([]);
    expect(contents.finished.map((e) => [e.id, e.deliveries[0].state])).toEqual([
      [delivered.id, 'delivered'],
      [dead.id, 'dead'],
    ]);
    expect(fs.readdirSync(path.join(dir.path, 'pending'))).toEqual([]);
  });

  describe('group commit of new entries', () => {
    const pendingFiles = () => fs.readdirSync(path.join(dir.path, 'pending')).sort();
    /** Ten entries added at once: the first is committed alone, the nine arriving during its commit together. */
    async function addTen(spool: Spool): Promise<SpoolEntry[]> {
      const entries = Array.from({ length: 10 }, (_, i) => entry(notification, 1000 + i));
      await Promise.all(entries.map((e) => spool.add(e)));
      return entries;
    }

    it('writes entries arriving together into one batch file, and a reopen gives each its own file, in arrival order', async () => {
      const { spool } = await Spool.open(dir.path);
      const entries = await addTen(spool);
      expect(pendingFiles()).toEqual([`${entries[0].id}.json`, `${entries[1].id}.batch`]);
      const lines = fs
        .readFileSync(path.join(dir.path, 'pending', `${entries[1].id}.batch`), 'utf8')
        .split('\n');
      expect(lines.slice(0, -1).map((l) => (JSON.parse(l) as SpoolEntry).id)).toEqual(
        entries.slice(1).map((e) => e.id),
      );

      // A crash: nothing was delivered. Every acknowledged entry is back, once, with its own file.
      const { contents } = await Spool.open(dir.path);
      expect(contents.pending.map((e) => e.id)).toEqual(entries.map((e) => e.id));
      expect(contents.pending[3].notification).toEqual(notification);
      expect(pendingFiles()).toEqual(entries.map((e) => `${e.id}.json`).sort());
      expect((await Spool.open(dir.path)).contents.pending).toHaveLength(10);
    });

    it('removes the batch once each of its entries has its own file, and a reopen in between takes the newer state', async () => {
      const { spool } = await Spool.open(dir.path);
      const [, ...batched] = await addTen(spool);
      const batchFile = `${batched[0].id}.batch`;
      batched[0].deliveries[0].state = 'delivered';
      await spool.finish(batched[0]);
      batched[1].deliveries[0].attempts = 2;
      await spool.save(batched[1]);
      expect(pendingFiles()).toContain(batchFile);

      const reopened = (await Spool.open(dir.path)).contents;
      expect(reopened.finished.map((e) => e.id)).toEqual([batched[0].id]);
      expect(reopened.pending.map((e) => e.id)).not.toContain(batched[0].id);
      expect(reopened.pending.find((e) => e.id === batched[1].id)?.deliveries[0].attempts).toBe(2);
      expect(reopened.pending).toHaveLength(9);

      // In the same run as the adds: the batch goes with the last entry's own file.
      const { spool: again } = await Spool.open(dir.path);
      const fresh = await addTen(again);
      const freshBatch = `${fresh[1].id}.batch`;
      for (const e of fresh.slice(1, -1)) {
        e.deliveries[0].state = 'delivered';
        await again.finish(e);
      }
      expect(pendingFiles()).toContain(freshBatch);
      fresh[9].deliveries[0].attempts = 1;
      await again.save(fresh[9]);
      expect(pendingFiles()).not.toContain(freshBatch);
    });

    it('keeps the final state of a batched entry until its batch is gone, so pruning cannot bring it back', async () => {
      const { spool } = await Spool.open(dir.path);
      const [, first, ...others] = await addTen(spool);
      first.deliveries[0].state = 'delivered';
      await spool.finish(first);
      await spool.prune([first.id]);
      // Its batch still holds it: deleting done/<id> now would make a crash deliver it again.
      expect(fs.existsSync(path.join(dir.path, 'done', `${first.id}.json`))).toBe(true);
      expect((await Spool.open(dir.path)).contents.pending.map((e) => e.id)).not.toContain(first.id);

      for (const e of others) {
        e.deliveries[0].state = 'delivered';
        await spool.finish(e);
      }
      expect(fs.existsSync(path.join(dir.path, 'done', `${first.id}.json`))).toBe(false);
      expect(fs.existsSync(path.join(dir.path, 'done', `${others[0].id}.json`))).toBe(true);
    });

    it('restores the whole lines of a torn batch and sets the batch aside', async () => {
      await Spool.open(dir.path);
      const whole = entry(notification, 1000);
      const torn = JSON.stringify(entry(notification, 1001)).slice(0, 200);
      const name = `${whole.id}.batch`;
      fs.writeFileSync(path.join(dir.path, 'pending', name), `${JSON.stringify(whole)}\n${torn}`);
      const { contents } = await Spool.open(dir.path);
      expect(contents.pending.map((e) => e.id)).toEqual([whole.id]);
      expect(contents.corrupt).toEqual([
        { file: path.join('pending', name), reason: expect.stringMatching(/^line 2: unreadable: /) },
      ]);
      expect(pendingFiles()).toEqual([`${whole.id}.json`]);
      expect(fs.readdirSync(path.join(dir.path, 'corrupt'))).toEqual([name]);
    });

    it('never builds a path from a batch line: an id of ../../victim is set aside', async () => {
      const spoolDir = path.join(dir.path, 'spool');
      await Spool.open(spoolDir);
      const hostile = { ...entry(notification, 1000), id: '../../victim' };
      const name = `${newEntryId(1000, 'abcdef0123456789')}.batch`;
      fs.writeFileSync(path.join(spoolDir, 'pending', name), `${JSON.stringify(hostile)}\n`);
      const { contents } = await Spool.open(spoolDir);
      expect(fs.readdirSync(dir.path)).toEqual(['spool']);
      expect(contents.pending).toEqual([]);
      expect(contents.corrupt).toEqual([
        {
          file: path.join('pending', name),
          reason: 'line 1: the entry\'s id "../../victim" is not an entry id',
        },
      ]);
    });

    it('fails every entry of a group whose commit fails, leaving none of them to deliver', async () => {
      const { spool } = await Spool.open(dir.path);
      const syncers = (spool as unknown as { syncers: Map<string, { sync(): Promise<void> }> }).syncers;
      const first = entry(notification, 1000);
      const group = Array.from({ length: 5 }, (_, i) => entry(notification, 2000 + i));
      const firstAdded = spool.add(first);
      // The group's commit is the second: its directory sync fails.
      jest
        .spyOn(syncers.get('pending')!, 'sync')
        .mockImplementationOnce(() => Promise.resolve())
        .mockRejectedValueOnce(new Error('EIO: i/o error, fsync'));
      const results = await Promise.allSettled(group.map((e) => spool.add(e)));
      await firstAdded;
      expect(results.map((r) => r.status)).toEqual(Array(5).fill('rejected'));
      expect(pendingFiles()).toEqual([`${first.id}.json`]);
      expect((await Spool.open(dir.path)).contents.pending.map((e) => e.id)).toEqual([first.id]);
    });
  });

  describe('reads spool files as untrusted input', () => {
    const name = `${newEntryId(1000, 'abcdef0123456789')}.json`;

    it.each([
      ['a null delivery', { deliveries: [null] }, 'not a spool entry: id: '],
      [
        'no notification',
        { ...entry(notification, 1000), notification: undefined },
        'not a spool entry: notification: ',
      ],
      [
        'an alert without labels',
        (() => {
          const e = entry(notification, 1000);
          return { ...e, notification: { ...e.notification, alerts: [{ status: 'firing' }] } };
        })(),
        'not a spool entry: notification.alerts[0].labels: ',
      ],
    ])('moves a file with %s to corrupt/ with the reason, and opens', async (_what, content, reason) => {
      const e = content as Record<string, unknown>;
      const text = JSON.stringify('id' in e ? { ...e, id: name.slice(0, -5) } : e);
      await Spool.open(dir.path);
      fs.writeFileSync(path.join(dir.path, 'pending', name), text);
      const { contents } = await Spool.open(dir.path);
      expect(contents.pending).toEqual([]);
      expect(contents.corrupt).toEqual([
        { file: path.join('pending', name), reason: expect.stringContaining(reason) },
      ]);
      expect(fs.readdirSync(path.join(dir.path, 'corrupt'))).toEqual([name]);
    });

    it('never builds a path from the content: an id of ../../victim touches nothing outside', async () => {
      const spoolDir = path.join(dir.path, 'spool');
      await Spool.open(spoolDir);
      const victim = path.join(dir.path, 'victim.json');
      fs.writeFileSync(victim, 'precious');
      const hostile = { ...entry(notification, 1000), id: '../../victim' };
      hostile.deliveries[0].state = 'delivered';
      fs.writeFileSync(path.join(spoolDir, 'pending', name), JSON.stringify(hostile));
      const { contents } = await Spool.open(spoolDir);
      expect(fs.readFileSync(victim, 'utf8')).toBe('precious');
      expect(contents.finished).toEqual([]);
      expect(contents.corrupt).toEqual([
        { file: path.join('pending', name), reason: 'the entry\'s id "../../victim" is not its file name' },
      ]);
    });

    it('sets aside a file whose name is not an entry id', async () => {
      const e = entry(notification, 1000);
      await Spool.open(dir.path);
      fs.writeFileSync(path.join(dir.path, 'done', 'x.json'), JSON.stringify({ ...e, id: 'x' }));
      const { contents } = await Spool.open(dir.path);
      expect(contents.finished).toEqual([]);
      expect(contents.corrupt).toEqual([
        { file: path.join('done', 'x.json'), reason: 'the file name is not an entry id' },
      ]);
    });
  });
});
