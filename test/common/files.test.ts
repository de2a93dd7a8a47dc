import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../src/common/files';
import { tempDir } from '../helpers/tmp';

describe('writeFileAtomic', () => {
  const dir = tempDir('vigil-files-');
  afterAll(() => dir.remove());

  it('takes writes of one file at once: each succeeds, one whole content is left, no temporary file', async () => {
    const file = path.join(dir.path, 'graph.png');
    const contents = Array.from({ length: 8 }, (_, i) => String(i).repeat(256 * 1024));
    await Promise.all(contents.map((data) => writeFileAtomic(file, data, { durable: false })));
    expect(contents).toContain(fs.readFileSync(file, 'utf8'));
    expect(fs.readdirSync(dir.path)).toEqual(['graph.png']);
  });

  it('leaves nothing behind when the write fails', async () => {
    const missing = path.join(dir.path, 'no-such-dir', 'x.json');
    await expect(writeFileAtomic(missing, '{}')).rejects.toThrow(/ENOENT/);
    const into = path.join(dir.path, 'taken');
    fs.mkdirSync(into);
    // The rename fails (a directory is in the way): the temporary file is removed.
    await expect(writeFileAtomic(into, 'data')).rejects.toThrow();
    expect(fs.readdirSync(dir.path).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
