// Dataset statistics shown before training: class balance, token lengths before truncation, truncation.

export interface LengthPercentiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface SplitStats {
  rows: number;
  /** Rows per class: [negative, positive]. */
  classCounts: [number, number];
  positiveFraction: number;
  /** Token counts including [CLS] and [SEP], before truncation. */
  tokenLengths: LengthPercentiles;
  /** Fraction of rows longer than maxLen (cut by truncation). */
  truncatedFraction: number;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? 0;
}

export function splitStats(labels: Uint8Array, fullLengths: Uint32Array, maxLen: number): SplitStats {
  const n = labels.length;
  let pos = 0;
  for (const l of labels) pos += l === 1 ? 1 : 0;
  const sorted = Uint32Array.from(fullLengths).sort();
  let sum = 0;
  let truncated = 0;
  for (const v of sorted) {
    sum += v;
    if (v > maxLen) truncated++;
  }
  return {
    rows: n,
    classCounts: [n - pos, pos],
    positiveFraction: n === 0 ? 0 : pos / n,
    tokenLengths: {
      p50: percentile(sorted, 50),
      p90: percentile(sorted, 90),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted.length === 0 ? 0 : (sorted[sorted.length - 1] ?? 0),
      mean: n === 0 ? 0 : sum / n,
    },
    truncatedFraction: n === 0 ? 0 : truncated / n,
  };
}
