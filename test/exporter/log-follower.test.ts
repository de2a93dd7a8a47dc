import fs from 'node:fs';
import path from 'node:path';
import { FileFollower } from '../../src/exporter/logs/follower';
import { tempDir } from '../helpers/tmp';

// One follower driven poll by poll, the file changed at exact points between and inside its reads,
// so that races with a copytruncate that the process tests meet only under load are met every time.

let dir: ReturnType<typeof tempDir>;
let followers: FileFollower[] = [];

beforeEach(() => {
  dir = tempDir('vigil-follower-');
});
afterEach(async () => {
  for (const follower of followers) await follower.close();
  followers = [];
  dir.remove();
});

/** Lines like the writer's in the process tests: numbered, of varying length. */
const numbered = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `line ${from + i} ${'x'.repeat((from + i) % 50)}`);
const text = (lines: string[]) => lines.map((line) => `${line}\n`).join('');

function follow(file: string, onLine: (line: string, lines: string[]) => void = () => undefined) {
  const lines: string[] = [];
  const follower = new FileFollower(
    file,
    {
      onLine: (line) => {
        lines.push(line);
        onLine(line, lines);
      },
      maxLineBytes: 1024,
      // Small, so that one poll reads a file of a few lines in several reads.
      buffer: Buffer.alloc(4096),
    },
    'start',
    () => undefined,
  );
  followers.push(follower);
  return { follower, lines };
}

/** Polls until a poll reads nothing and leaves nothing behind. */
async function drain(follower: FileFollower, lines: string[]): Promise<void> {
  for (let polls = 0; polls < 100; polls++) {
    const before = lines.length;
    const more = await follower.poll(Infinity);
    if (!more && lines.length === before && follower.stats.lagBytes === 0) return;
  }
  throw new Error('the follower kept reading');
}

/** logrotate's copytruncate, then the application's next lines. */
function copyTruncate(file: string, copy: string, refill: string): void {
  fs.copyFileSync(file, copy);
  fs.truncateSync(file, 0);
  fs.appendFileSync(file, refill);
}

describe('following a file that is copied and truncated', () => {
  it('reads the rest from the copy when the truncation and refill happen while a poll is reading', async () => {
    const file = path.join(dir.path, 'app.log');
    const before = numbered(1, 1000); // about 30 KB: several reads of 4 KiB
    const after = numbered(1001, 1200); // refilled past everything the first poll set out to read
    fs.writeFileSync(file, text(before));
    let rotated = false;
    const { follower, lines } = follow(file, (_, seen) => {
      if (seen.length === 50 && !rotated) {
        rotated = true;
        copyTruncate(file, `${file}.1`, text(after));
      }
    });
    await drain(follower, lines);
    expect(rotated).toBe(true);
    expect(lines).toEqual([...before, ...after]);
    expect(follower.stats.truncations).toBe(1);
  });

  it('notices a refill past the position whose bytes before the position are the same, by the head of the file', async () => {
    const file = path.join(dir.path, 'app.log');
    // Same-length headers, then the same line over and over: the 512 bytes before the position
    // agree in the old and the new file, only the start of the file tells them apart.
    const heartbeats = (count: number) => Array.from({ length: count }, () => 'heartbeat ok');
    const before = ['started at 2026-12-01T00:00:00Z', ...heartbeats(200)];
    const after = ['started at 2026-12-02T00:00:00Z', ...heartbeats(300)];
    fs.writeFileSync(file, text(before));
    const { follower, lines } = follow(file);
    await drain(follower, lines);
    expect(lines).toEqual(before);

    copyTruncate(file, `${file}.1`, text(after));
    await drain(follower, lines);
    expect(lines).toEqual([...before, ...after]);
    expect(follower.stats.truncations).toBe(1);
  });

  it('reads the rest from the copy when the file was refilled past the position between two polls', async () => {
    const file = path.join(dir.path, 'app.log');
    const before = numbered(1, 500);
    fs.writeFileSync(file, text(before));
    const { follower, lines } = follow(file);
    await drain(follower, lines);
    const unread = numbered(501, 100);
    fs.appendFileSync(file, text(unread));
    const after = numbered(601, 1000);
    copyTruncate(file, `${file}-20261202`, text(after));
    await drain(follower, lines);
    expect(lines).toEqual([...before, ...unread, ...after]);
    expect(follower.stats.truncations).toBe(1);
  });
});
