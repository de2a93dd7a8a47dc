import fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { parseNotification, type Notification } from '../../src/bridge/payload';
import { newEntryId, Spool, type SpoolEntry, type SpoolOptions } from '../../src/bridge/spool';
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

/** The log's records as written: its segment's lines up to the zeros not yet written over. */
function logLines(dir: string): string[] {
  const segments = fs.readdirSync(path.join(dir, 'log'));
  expect(segments).toHaveLength(1);
  const data = fs.readFileSync(path.join(dir, 'log', segments[0]));
  const end = data.indexOf(0);
  return data
    .toString('utf8', 0, end < 0 ? data.length : end)
    .split('\n')
    .filter((line) => line !== '');
}

/** Appends `text` where the log's next record would go, as a write cut short by a crash leaves it. */
function appendToLog(dir: string, text: string): void {
  const [segment] = fs.readdirSync(path.join(dir, 'log'));
  const file = path.join(dir, 'log', segment);
  const end = fs.readFileSync(file).indexOf(0);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, text, end);
  fs.closeSync(fd);
}

describe('spool', () => {
  let dir: ReturnType<typeof tempDir>;
  const opened: Spool[] = [];
  beforeEach(() => (dir = tempDir()));
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    dir.remove();
  });
  /** Opens the spool in `at` (the test's directory by default), closed after the test. */
  async function open(at = dir.path, options: SpoolOptions = {}) {
    const result = await Spool.open(at, options);
    opened.push(result.spool);
    return result;
  }

  it('keeps accepted entries and their progress across a reopen, and finished ones as finished', async () => {
    const { spool } = await open();
    const a = entry(notification, 1000);
    const b = entry(notification, 2000);
    await spool.add(a);
    await spool.add(b);
    b.deliveries[0].state = 'delivered';
    await spool.finish(b);
    a.deliveries[0].attempts = 3;
    await spool.save(a);

    const { contents } = await open();
    expect(contents.pending.map((e) => e.id)).toEqual([a.id]);
    expect(contents.pending[0].deliveries[0].attempts).toBe(3);
    expect(contents.pending[0].notification).toEqual(notification);
    expect(contents.finished.map((e) => [e.id, e.deliveries[0].state])).toEqual([[b.id, 'delivered']]);
    expect(contents.corrupt).toEqual([]);
    // Reopening wrote a new segment with the two entries' latest records alone.
    expect(logLines(dir.path).map((l) => (JSON.parse(l) as SpoolEntry).id)).toEqual([a.id, b.id]);
  });

  it('writes entries arriving together in one commit, reports how long each waited, and keeps their order', async () => {
    const waits: number[] = [];
    const { spool } = await open(dir.path, { onStored: (seconds) => waits.push(seconds) });
    const entries = Array.from({ length: 10 }, (_, i) => entry(notification, 1000 + i));
    await Promise.all(entries.map((e) => spool.add(e)));
    expect(waits).toHaveLength(10);
    expect(waits.every((s) => s >= 0)).toBe(true);
    expect(logLines(dir.path).map((l) => (JSON.parse(l) as SpoolEntry).id)).toEqual(entries.map((e) => e.id));
    const { contents } = await open();
    expect(contents.pending.map((e) => e.id)).toEqual(entries.map((e) => e.id));
  });

  it('dead-letters an entry with a dead delivery into dead/, out of the log', async () => {
    const { spool } = await open();
    const a = entry(notification);
    await spool.add(a);
    a.deliveries[0].state = 'dead';
    expect(await spool.finish(a)).toBe('dead');
    expect(fs.readdirSync(path.join(dir.path, 'dead'))).toEqual([`${a.id}.json`]);
    expect(logLines(dir.path).map((l) => JSON.parse(l) as unknown)).toEqual([
      expect.objectContaining({ id: a.id }),
      { forget: a.id },
    ]);
    const { contents } = await open();
    expect(contents.pending).toEqual([]);
    expect(contents.finished.map((e) => [e.id, e.deliveries[0].state])).toEqual([[a.id, 'dead']]);
    expect(logLines(dir.path)).toEqual([]);
  });

  it('takes dead/ over the log when a crash left an entry in both', async () => {
    const { spool } = await open();
    const a = entry(notification);
    await spool.add(a);
    a.deliveries[0].state = 'dead';
    // The dead letter was written, then the process died before the log forgot the entry.
    fs.writeFileSync(path.join(dir.path, 'dead', `${a.id}.json`), JSON.stringify(a));
    fs.writeFileSync(path.join(dir.path, 'dead', `${a.id}.json.0badc0de.tmp`), '{"half":');
    const { contents } = await open();
    expect(contents.pending).toEqual([]);
    expect(contents.finished.map((e) => e.id)).toEqual([a.id]);
    expect(fs.readdirSync(path.join(dir.path, 'dead'))).toEqual([`${a.id}.json`]);
  });

  it('forgets pruned entries, and only those', async () => {
    const { spool } = await open();
    const [a, b, c] = [1000, 2000, 3000].map((t) => entry(notification, t));
    for (const e of [a, b, c]) {
      await spool.add(e);
      e.deliveries[0].state = 'delivered';
      await spool.finish(e);
    }
    await spool.prune([a.id, c.id]);
    expect((await open()).contents.finished.map((e) => e.id)).toEqual([b.id]);
  });

  it('forgets an entry recorded in the same group commit', async () => {
    const { spool } = await open();
    const first = entry(notification, 1000);
    const gone = entry(notification, 2000);
    // The second and third arrive while the first commits: they are written together.
    await Promise.all([spool.add(first), spool.add(gone), spool.prune([gone.id])]);
    expect((await open()).contents.pending.map((e) => e.id)).toEqual([first.id]);
  });

  it('ignores a commit a crash cut short: it was never acknowledged', async () => {
    const { spool } = await open();
    const a = entry(notification, 1000);
    await spool.add(a);
    appendToLog(dir.path, JSON.stringify(entry(notification, 2000)).slice(0, 300));
    const { contents } = await open();
    expect(contents.pending.map((e) => e.id)).toEqual([a.id]);
    expect(contents.corrupt).toEqual([]);
  });

  it('replaces a full segment by one with the live records alone, as often as it fills', async () => {
    const minSegmentBytes = 16 * 1024;
    const { spool } = await open(dir.path, { minSegmentBytes });
    const kept: SpoolEntry[] = [];
    for (let i = 0; i < 60; i++) {
      const e = entry(notification, 1000 + i);
      await spool.add(e);
      if (i % 3 === 0) {
        e.deliveries[0].attempts = 1;
        await spool.save(e);
        kept.push(e);
      } else {
        e.deliveries[0].state = 'delivered';
        await spool.finish(e);
        await spool.prune([e.id]);
      }
    }
    // 60 entries of about 1 KB each went through a 16 KiB segment.
    const [segment] = fs.readdirSync(path.join(dir.path, 'log'));
    expect(Number(segment.slice(0, 16))).toBeGreaterThan(3);
    // Sized for the live records, twice over, not for all that was written.
    const live = kept.reduce((bytes, e) => bytes + Buffer.byteLength(JSON.stringify(e)) + 1, 0);
    const size = fs.statSync(path.join(dir.path, 'log', segment)).size;
    expect(size).toBeLessThanOrEqual(2 * live + 4096);
    expect(size).toBeGreaterThanOrEqual(Math.max(minSegmentBytes, live));
    const { contents } = await open(dir.path, { minSegmentBytes });
    expect(contents.pending.map((e) => [e.id, e.deliveries[0].attempts])).toEqual(kept.map((e) => [e.id, 1]));
    expect(contents.finished).toEqual([]);
  });

  it('leaves out of the log what a failed write may have left: the retried copy is the only one', async () => {
    const { spool } = await open();
    const first = entry(notification, 1000);
    const failed = entry(notification, 2000);
    const third = entry(notification, 3000);
    await spool.add(first);
    const handle = (spool as unknown as { log: { segment: { handle: FileHandle } } }).log.segment.handle;
    const write = handle.write.bind(handle) as (...args: unknown[]) => Promise<unknown>;
    // The data reaches the file, then the write reports an I/O error.
    jest.spyOn(handle, 'write').mockImplementationOnce(async (...args: unknown[]) => {
      await write(...args);
      throw new Error('EIO: i/o error, write');
    });
    await expect(spool.add(failed)).rejects.toThrow('EIO');
    await spool.add(third);
    expect((await open()).contents.pending.map((e) => e.id)).toEqual([first.id, third.id]);
  });

  it('fails loudly when the log cannot be made', async () => {
    fs.writeFileSync(path.join(dir.path, 'log'), 'a file where the directory goes');
    await expect(Spool.open(dir.path)).rejects.toThrow(/EEXIST|ENOTDIR/);
  });

  it('waits for the commits under way when closed', async () => {
    const { spool } = await Spool.open(dir.path);
    const a = entry(notification, 1000);
    const added = spool.add(a);
    await spool.close();
    await added;
    expect((await open()).contents.pending.map((e) => e.id)).toEqual([a.id]);
  });

  describe('a spool of an earlier version', () => {
    /** Its layout: pending/<id>.json, pending/<id>.batch (one entry per line), done/<id>.json. */
    function earlierSpool(files: Record<string, string>): void {
      for (const [name, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(dir.path, name)), { recursive: true });
        fs.writeFileSync(path.join(dir.path, name), text);
      }
    }

    it('is read into the log at start, the newest copy of each entry winning, and its files removed', async () => {
      const [own, batched, saved, delivered, dead] = [1000, 2000, 3000, 4000, 5000].map((t) =>
        entry(notification, t),
      );
      const progressed = { ...saved, deliveries: [{ ...saved.deliveries[0], attempts: 4 }] };
      const finished = { ...delivered, deliveries: [{ ...delivered.deliveries[0], state: 'delivered' }] };
      const deadLetter = { ...dead, deliveries: [{ ...dead.deliveries[0], state: 'dead' }] };
      earlierSpool({
        [`pending/${own.id}.json`]: JSON.stringify(own),
        [`pending/${batched.id}.batch`]: [batched, saved, delivered]
          .map((e) => `${JSON.stringify(e)}\n`)
          .join(''),
        [`pending/${saved.id}.json`]: JSON.stringify(progressed),
        [`pending/${delivered.id}.json.1a2b3c4d.tmp`]: '{"half":',
        [`done/${delivered.id}.json`]: JSON.stringify(finished),
        // A crash between its final state and the move to dead/.
        [`pending/${dead.id}.json`]: JSON.stringify(deadLetter),
      });
      const { contents } = await open();
      expect(contents.pending.map((e) => [e.id, e.deliveries[0].attempts])).toEqual([
        [own.id, 0],
        [batched.id, 0],
        [saved.id, 4],
      ]);
      expect(contents.finished.map((e) => [e.id, e.deliveries[0].state])).toEqual([
        [delivered.id, 'delivered'],
        [dead.id, 'dead'],
      ]);
      expect(contents.corrupt).toEqual([]);
      expect(fs.readdirSync(dir.path).sort()).toEqual(['corrupt', 'dead', 'log']);
      expect(fs.readdirSync(path.join(dir.path, 'dead'))).toEqual([`${dead.id}.json`]);
      // From the log alone now.
      const again = (await open()).contents;
      expect(again.pending.map((e) => e.id)).toEqual([own.id, batched.id, saved.id]);
      expect(again.finished.map((e) => e.id)).toEqual([delivered.id, dead.id]);
    });

    it('sets aside its unreadable files and the torn lines of a batch, restoring the whole lines', async () => {
      const whole = entry(notification, 1000);
      const torn = JSON.stringify(entry(notification, 1001)).slice(0, 200);
      const batch = `${whole.id}.batch`;
      const hostile = { ...entry(notification, 1002), id: '../../victim' };
      earlierSpool({
        [`pending/${batch}`]: `${JSON.stringify(whole)}\n${torn}\n${JSON.stringify(hostile)}\n`,
        'pending/bad.json': 'not json',
        'done/x.json': JSON.stringify({ ...whole, id: 'x' }),
      });
      const { contents } = await open();
      expect(contents.pending.map((e) => e.id)).toEqual([whole.id]);
      expect(contents.corrupt).toEqual([
        {
          file: path.join('pending', batch),
          reason: expect.stringMatching(
            /^line 2: unreadable: .*; line 3: the entry's id "..\/..\/victim" is not an entry id$/,
          ),
        },
        { file: path.join('pending', 'bad.json'), reason: 'the file name is not an entry id' },
        { file: path.join('done', 'x.json'), reason: 'the file name is not an entry id' },
      ]);
      expect(fs.readdirSync(path.join(dir.path, 'corrupt')).sort()).toEqual(
        [batch, 'bad.json', 'x.json'].sort(),
      );
    });
  });

  describe('reads the log as untrusted input', () => {
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
      [
        'an id that is not an entry id',
        { ...entry(notification, 1000), id: '../../victim' },
        'the entry\'s id "../../victim" is not an entry id',
      ],
      ['a forget without a key', { forget: 7 }, 'unreadable: "forget" is not a key'],
    ])(
      'sets a segment with %s aside in corrupt/ with the reason, and reads the rest of it',
      async (_what, content, reason) => {
        const spoolDir = path.join(dir.path, 'spool');
        const { spool } = await open(spoolDir);
        const before = entry(notification, 500);
        const after = entry(notification, 2000);
        await spool.add(before);
        appendToLog(spoolDir, `${JSON.stringify(content)}\n`);
        const [segment] = fs.readdirSync(path.join(spoolDir, 'log'));
        const { contents } = await open(spoolDir);
        expect(contents.pending.map((e) => e.id)).toEqual([before.id]);
        expect(contents.corrupt).toEqual([
          { file: path.join('log', segment), reason: expect.stringContaining(`line 2: ${reason}`) },
        ]);
        expect(fs.readdirSync(path.join(spoolDir, 'corrupt'))).toEqual([segment]);
        // Nothing outside the spool was touched; the spool goes on.
        expect(fs.readdirSync(dir.path)).toEqual(['spool']);
        const { spool: reopened } = await open(spoolDir);
        await reopened.add(after);
        expect((await open(spoolDir)).contents.pending.map((e) => e.id)).toEqual([before.id, after.id]);
      },
    );
  });
});
