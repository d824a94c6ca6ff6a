// Seeded stratified train/validation split and stratified subsets (row limits). Indices refer to rows of
// the validated train file; the same labels, fraction and seed always give the same indices.
import { mulberry32, shuffleInPlace } from './random.ts';

export interface SplitIndices {
  train: Uint32Array;
  validation: Uint32Array;
}

function byClass(indices: ArrayLike<number>, labels: Uint8Array): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  for (let i = 0; i < indices.length; i++) {
    const idx = indices[i] ?? 0;
    const c = labels[idx] ?? 0;
    let g = groups.get(c);
    if (g === undefined) groups.set(c, (g = []));
    g.push(idx);
  }
  return new Map([...groups.entries()].sort((a, b) => a[0] - b[0]));
}

/**
 * Holds out round(n_c * valFraction) rows of each class c (at least one while the class has two rows and
 * valFraction > 0). Both outputs are in a seeded shuffled order with the classes mixed.
 */
export function stratifiedSplit(labels: Uint8Array, valFraction: number, seed: number): SplitIndices {
  if (!(valFraction >= 0 && valFraction < 1)) throw new RangeError(`valFraction must be in [0, 1), got ${valFraction}`);
  const rand = mulberry32(seed);
  const all = Array.from({ length: labels.length }, (_, i) => i);
  const train: number[] = [];
  const validation: number[] = [];
  for (const group of byClass(all, labels).values()) {
    shuffleInPlace(group, rand);
    let k = Math.round(group.length * valFraction);
    if (valFraction > 0 && k === 0 && group.length >= 2) k = 1;
    validation.push(...group.slice(0, k));
    train.push(...group.slice(k));
  }
  return {
    train: Uint32Array.from(shuffleInPlace(train, rand)),
    validation: Uint32Array.from(shuffleInPlace(validation, rand)),
  };
}

/**
 * A seeded subset of `indices` of size min(limit, n) keeping the class proportions (largest-remainder
 * rounding), in a seeded shuffled order.
 */
export function stratifiedSubset(indices: Uint32Array, labels: Uint8Array, limit: number, seed: number): Uint32Array {
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
  if (limit >= indices.length) return indices;
  const rand = mulberry32((seed ^ 0x5bd1e995) >>> 0);
  const groups = [...byClass(indices, labels).values()];
  const quotas = groups.map((g) => (g.length * limit) / indices.length);
  const take = quotas.map(Math.floor);
  let left = limit - take.reduce((s, v) => s + v, 0);
  const order = quotas.map((q, i) => [q - Math.floor(q), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left === 0) break;
    take[i] = (take[i] ?? 0) + 1;
    left--;
  }
  const out: number[] = [];
  groups.forEach((g, i) => out.push(...shuffleInPlace([...g], rand).slice(0, take[i] ?? 0)));
  return Uint32Array.from(shuffleInPlace(out, rand));
}
