// Seeded stratified split and subsets, the PRNG, and dataset statistics.
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/data/random.ts';
import { stratifiedSplit, stratifiedSubset } from '../../src/data/split.ts';
import { percentile, splitStats } from '../../src/data/stats.ts';

function labelsOf(n0: number, n1: number): Uint8Array {
  return Uint8Array.from([...Array<number>(n0).fill(0), ...Array<number>(n1).fill(1)]);
}

function classCount(labels: Uint8Array, idx: Uint32Array): [number, number] {
  let ones = 0;
  for (const i of idx) ones += labels[i] ?? 0;
  return [idx.length - ones, ones];
}

describe('mulberry32', () => {
  it('is deterministic per seed and roughly uniform', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(Array.from({ length: 10000 }, () => b())).toEqual(xs);
    expect(mulberry32(43)()).not.toBe(xs[0]);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});

describe('stratifiedSplit', () => {
  const labels = labelsOf(700, 300);
  it('holds out valFraction of each class, disjoint and complete', () => {
    const s = stratifiedSplit(labels, 0.1, 7);
    expect(classCount(labels, s.validation)).toEqual([70, 30]);
    expect(classCount(labels, s.train)).toEqual([630, 270]);
    const all = [...s.train, ...s.validation].sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
  it('is deterministic for a seed and differs across seeds', () => {
    expect(stratifiedSplit(labels, 0.1, 7)).toEqual(stratifiedSplit(labels, 0.1, 7));
    expect(Array.from(stratifiedSplit(labels, 0.1, 8).validation)).not.toEqual(Array.from(stratifiedSplit(labels, 0.1, 7).validation));
  });
  it('keeps at least one row of a small class in validation', () => {
    const s = stratifiedSplit(labelsOf(40, 3), 0.1, 0);
    expect(classCount(labelsOf(40, 3), s.validation)).toEqual([4, 1]);
  });
});

describe('stratifiedSubset', () => {
  const labels = labelsOf(700, 300);
  const idx = stratifiedSplit(labels, 0.1, 1).train;
  it('keeps class proportions with exact size and draws only from the given rows', () => {
    const sub = stratifiedSubset(idx, labels, 101, 3);
    expect(sub.length).toBe(101);
    expect(classCount(labels, sub)).toEqual([71, 30]);
    const allowed = new Set(idx);
    for (const i of sub) expect(allowed.has(i)).toBe(true);
    expect(new Set(sub).size).toBe(101);
    expect(stratifiedSubset(idx, labels, 101, 3)).toEqual(sub);
  });
  it('a limit at or above the size keeps every row', () => {
    expect(stratifiedSubset(idx, labels, 5000, 3)).toBe(idx);
  });
});

describe('splitStats', () => {
  it('class balance, nearest-rank percentiles and truncation', () => {
    const lengths = Uint32Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    const labels = Uint8Array.from({ length: 100 }, (_, i) => (i < 25 ? 1 : 0));
    const s = splitStats(labels, lengths, 90);
    expect(s.classCounts).toEqual([75, 25]);
    expect(s.positiveFraction).toBe(0.25);
    expect(s.tokenLengths).toEqual({ p50: 50, p90: 90, p95: 95, p99: 99, max: 100, mean: 50.5 });
    expect(s.truncatedFraction).toBeCloseTo(0.1, 12);
    expect(percentile([], 50)).toBe(0);
  });
});
