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
