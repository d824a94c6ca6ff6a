// One micro-batch as the GPU reads it, built on the CPU: token ids, lengths, labels and the grouping of positions by
// token id that the word-embedding backward uses (DESIGN.md decision 3), plus the per-micro-batch uniform.

export interface TokenBatch {
  /** [B * T] token ids, row-major, 0-padded. */
  ids: Uint32Array;
  /** [B] real tokens per row, including [CLS] and [SEP]; padding rows have length >= 1. */
  lengths: Uint32Array;
  /** [B] class index, or NO_LABEL for padding rows (no loss, no gradient). */
  labels: Uint32Array;
}

export const NO_LABEL = 0xffffffff;

/** Word-embedding gradient groups: [unique count U, offsets[U+1], token ids[U], positions sorted by token]. Sized for
 * the worst case (U = rows): 1 + (rows + 1) + rows + rows words. */
export function groupWords(ids: Uint32Array): Uint32Array {
  const rows = ids.length;
  const out = new Uint32Array(1 + (rows + 1) + rows + rows);
  const order = Array.from({ length: rows }, (_, i) => i).sort((a, b) => ids[a]! - ids[b]! || a - b);
  const offsets = 1, tokens = 1 + rows + 1, positions = tokens + rows;
  let u = 0;
  for (let k = 0; k < rows; k++) {
    const p = order[k]!;
    if (k === 0 || ids[p] !== ids[order[k - 1]!]) {
      out[offsets + u] = k;
      out[tokens + u] = ids[p]!;
      u++;
    }
    out[positions + k] = p;
  }
  out[offsets + u] = rows;
  out[0] = u;
  return out;
}

/** Byte layout of one micro-batch record in the staging buffer; every section is copied to its own GPU buffer. */
export interface RecordLayout {
  ids: number; lengths: number; labels: number; groups: number; micro: number; bytes: number;
  idsBytes: number; lengthsBytes: number; labelsBytes: number; groupsBytes: number; microBytes: number;
}

export function recordLayout(batch: number, seqLen: number): RecordLayout {
  const rows = batch * seqLen;
  const align = (n: number): number => Math.ceil(n / 16) * 16;
  const idsBytes = align(rows * 4), lengthsBytes = align(batch * 4), labelsBytes = align(batch * 4);
  const groupsBytes = align((1 + rows + 1 + rows + rows) * 4), microBytes = 16;
  const ids = 0, lengths = ids + idsBytes, labels = lengths + lengthsBytes, groups = labels + labelsBytes, micro = groups + groupsBytes;
  return { ids, lengths, labels, groups, micro, bytes: align(micro + microBytes), idsBytes, lengthsBytes, labelsBytes, groupsBytes, microBytes };
}

export interface MicroState {
  seed: number;
  training: boolean;
  /** Gradient scale of one row: loss scale / real rows in the effective batch. */
  invBatch: number;
  slot: number;
}

/** Writes one record (see recordLayout) at byte `offset` of `target`. */
export function writeRecord(target: ArrayBuffer, offset: number, layout: RecordLayout, b: TokenBatch, m: MicroState, withGroups: boolean): void {
  new Uint32Array(target, offset + layout.ids, b.ids.length).set(b.ids);
  new Uint32Array(target, offset + layout.lengths, b.lengths.length).set(b.lengths);
  new Uint32Array(target, offset + layout.labels, b.labels.length).set(b.labels);
  if (withGroups) new Uint32Array(target, offset + layout.groups, layout.groupsBytes / 4).set(groupWords(b.ids));
  const view = new DataView(target, offset + layout.micro, 16);
  view.setUint32(0, m.seed >>> 0, true);
  view.setUint32(4, m.training ? 1 : 0, true);
  view.setFloat32(8, m.invBatch, true);
  view.setUint32(12, m.slot, true);
}
