// Micro-batches from a tokenized split: seeded per-epoch shuffles, the effective batch split into micro-batches, and a
// last partial batch padded with rows that carry no label (no loss, no gradient) so every dispatch keeps its shape.
import { NO_LABEL, type TokenBatch } from '../model/inputs.ts';
import { Rng } from '../random.ts';

/** The engine's view of a split (src/data's TokenizedSplit has this shape). */
export interface SplitView {
  ids: Uint16Array | Uint32Array;
  lengths: Uint16Array;
  labels: Uint8Array;
  count: number;
  maxLen: number;
}

/** Rows `rows` of `split` as one micro-batch of `size` rows and sequence length `seqLen` (<= split.maxLen). */
export function gatherBatch(split: SplitView, rows: ArrayLike<number>, size: number, seqLen: number): TokenBatch {
  const out: TokenBatch = { ids: new Uint32Array(size * seqLen), lengths: new Uint32Array(size), labels: new Uint32Array(size).fill(NO_LABEL) };
  for (let b = 0; b < size; b++) {
    if (b >= rows.length) {
      out.lengths[b] = 1; // padding row: one [PAD] token attended, ignored by the loss
      continue;
    }
    const r = rows[b]!;
    const len = Math.min(split.lengths[r]!, seqLen);
    const src = split.ids.subarray(r * split.maxLen, r * split.maxLen + len);
    out.ids.set(src, b * seqLen);
    if (len < split.lengths[r]!) out.ids[b * seqLen + len - 1] = split.ids[r * split.maxLen + split.lengths[r]! - 1]!; // keep [SEP] last
    out.lengths[b] = len;
    out.labels[b] = split.labels[r]!;
  }
  return out;
}

/** The seeded row order of one epoch (benchmarks replay it in PyTorch to train on the same batches). */
export function epochOrder(count: number, seed: number, epoch: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  new Rng(seed * 1009 + epoch).shuffle(order);
  return order;
}

/** The optimizer steps of one epoch: each a list of micro-batches (`accumulation` of `micro` rows, the last may be short). */
export function epochSteps(split: SplitView, batchSize: number, micro: number, seqLen: number, seed: number, epoch: number): TokenBatch[][] {
  const order = epochOrder(split.count, seed, epoch);
  const steps: TokenBatch[][] = [];
  for (let s = 0; s < order.length; s += batchSize) {
    const rows = order.slice(s, s + batchSize);
    const micros: TokenBatch[] = [];
    for (let m = 0; m < rows.length; m += micro) micros.push(gatherBatch(split, rows.slice(m, m + micro), micro, seqLen));
    steps.push(micros);
  }
  return steps;
}

/** Evaluation micro-batches over the whole split in order. */
export function evalBatches(split: SplitView, micro: number, seqLen: number): TokenBatch[] {
  const out: TokenBatch[] = [];
  for (let s = 0; s < split.count; s += micro) {
    out.push(gatherBatch(split, Array.from({ length: Math.min(micro, split.count - s) }, (_, i) => s + i), micro, seqLen));
  }
  return out;
}

export function stepsPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}
