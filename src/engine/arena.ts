// Parameter arena layout: every trainable tensor lives in one flat fp32 buffer (and the gradients, AdamW moments in
// buffers of the same layout), so the norm, clipping and AdamW kernels run over one array. Tensors that a kernel reads
// as one operand (q, k and v weights: one [3D, D] GEMM) are placed back to back in a block; every block starts at a
// 256-byte boundary so it can be bound on its own. Blocks with weight decay come first: the decay mask is one index.

export interface TensorSpec {
  name: string;
  shape: number[];
}

export interface BlockSpec {
  key: string;
  decay: boolean;
  tensors: TensorSpec[];
}

export interface Placement {
  /** Offset in floats from the start of the arena. */
  offset: number;
  count: number;
  shape: number[];
  block: string;
}

export interface ArenaLayout {
  /** Floats in the arena (multiple of 64). */
  size: number;
  /** Floats [0, decayCount) get weight decay. */
  decayCount: number;
  tensors: Map<string, Placement>;
  blocks: Map<string, { offset: number; count: number }>;
}

const ALIGN_FLOATS = 64; // 256 bytes

export function layoutArena(blocks: BlockSpec[]): ArenaLayout {
  const ordered = [...blocks.filter((b) => b.decay), ...blocks.filter((b) => !b.decay)];
  const tensors = new Map<string, Placement>();
  const blockMap = new Map<string, { offset: number; count: number }>();
  let offset = 0;
  let decayCount = 0;
  for (const block of ordered) {
    offset = Math.ceil(offset / ALIGN_FLOATS) * ALIGN_FLOATS;
    const start = offset;
    for (const t of block.tensors) {
      const count = t.shape.reduce((a, b) => a * b, 1);
      if (tensors.has(t.name)) throw new Error(`arena: tensor ${t.name} placed twice`);
      tensors.set(t.name, { offset, count, shape: t.shape, block: block.key });
      offset += count;
    }
    blockMap.set(block.key, { offset: start, count: offset - start });
    if (block.decay) decayCount = offset;
  }
  return { size: Math.ceil(offset / ALIGN_FLOATS) * ALIGN_FLOATS, decayCount, tensors, blocks: blockMap };
}
