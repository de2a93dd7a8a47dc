import { median, medianAbsoluteDeviation } from 'simple-statistics';
import { OrderStatisticTree } from '../../src/detector/algorithms/order-statistics';
import { noise } from './series';

describe('OrderStatisticTree', () => {
  test('select, median and MAD agree with sorting and simple-statistics through a sliding window', () => {
    const rand = noise(7);
    const tree = new OrderStatisticTree(50);
    const window: number[] = [];
    for (let i = 0; i < 2000; i++) {
      // Repeated values on purpose: flat series are common.
      const x = Math.round(rand() * 40) / 4 + 0; // + 0 turns -0 into 0
      if (window.length === 50) expect(tree.remove(window.shift()!)).toBe(true);
      tree.insert(x);
      window.push(x);
      const sorted = [...window].sort((a, b) => a - b);
      expect(tree.count).toBe(window.length);
      const k = i % window.length;
      expect(tree.select(k)).toBe(sorted[k]);
      const treeMedian = tree.median();
      expect(treeMedian).toBe(median(window));
      expect(tree.medianAbsoluteDeviation(treeMedian)).toBeCloseTo(medianAbsoluteDeviation(window), 12);
    }
  });

  test('remove of an absent value changes nothing; a full tree refuses more', () => {
    const tree = new OrderStatisticTree(2);
    tree.insert(1);
    tree.insert(2);
    expect(tree.remove(3)).toBe(false);
    expect(tree.count).toBe(2);
    expect(() => tree.insert(4)).toThrow(/full/);
    expect(tree.median()).toBe(1.5);
  });
});
