import os from 'node:os';
import { threadsBesideEventLoop } from '../../src/common/threads';

describe('threadsBesideEventLoop', () => {
  it('leaves one core to the event loop, up to the maximum, never fewer than one', () => {
    expect([1, 2, 3, 4, 8].map((cores) => threadsBesideEventLoop(2, cores))).toEqual([1, 1, 2, 2, 2]);
    expect(threadsBesideEventLoop(4, 8)).toBe(4);
    expect(threadsBesideEventLoop(16, 8)).toBe(7);
    expect(threadsBesideEventLoop(8, 0)).toBe(1);
  });

  it('counts the CPUs this process may use when not told', () => {
    expect(threadsBesideEventLoop(64)).toBe(Math.max(1, os.availableParallelism() - 1));
  });
});
