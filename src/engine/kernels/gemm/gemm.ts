// Records one strided batched GEMM (see gemm.wgsl for the addressing and epilogues).
import type { BufferRange, KernelContext, Program } from '../kernel.ts';
import source from './gemm.wgsl?raw';

export const Epilogue = { none: 0, bias: 1, biasGelu: 2, biasRelu: 3, biasTanh: 4, geluGrad: 5 } as const;
export type EpilogueKind = keyof typeof Epilogue;

/** How an operand is addressed: element (r, c) of batch (b, h) sits at off + b*offB + h*offH + r*rs + c*cs (floats
 * from the start of the bound range). */
export interface Operand {
  buf: BufferRange;
  rs: number;
  cs: number;
  off?: number;
  offB?: number;
  offH?: number;
}

/** 'tiled' (shared-memory tiles, for GPUs) or 'direct' (no barriers, for CPU adapters). */
export type GemmVariant = 'tiled' | 'direct';

export interface GemmSpec {
  label: string;
  M: number;
  N: number;
  K: number;
  /** Batch count = batches * heads; default 1 x 1. */
  batches?: number;
  heads?: number;
  A: Operand;
  B: Operand;
  C: Operand;
  alpha?: number;
  /** 1 accumulates into C (gradients), 0 overwrites. */
  beta?: number;
  epilogue?: EpilogueKind;
  bias?: BufferRange;
  /** Default: by adapter (KernelContext.preferBarrierFree). */
  variant?: GemmVariant;
  /** Pre-activation store (biasGelu) or input (geluGrad); same layout as C. */
  aux?: BufferRange;
  /** Operands stored as packed 16-bit floats (mixed precision); fp32 where absent. */
  half?: { A?: boolean; B?: boolean; C?: boolean; aux?: boolean };
}

export const gemmShader = { name: 'gemm', code: source, libraries: ['half'] };

export function recordGemm(ctx: KernelContext, program: Program, s: GemmSpec): void {
  const epilogue = s.epilogue ?? 'none';
  const needsBias = epilogue === 'bias' || epilogue === 'biasGelu' || epilogue === 'biasRelu' || epilogue === 'biasTanh';
  const needsAux = epilogue === 'biasGelu' || epilogue === 'geluGrad';
  if (needsBias && !s.bias) throw new Error(`${s.label}: epilogue ${epilogue} needs a bias`);
  if (needsAux && !s.aux) throw new Error(`${s.label}: epilogue ${epilogue} needs an aux buffer`);
  const heads = s.heads ?? 1;
  const batches = s.batches ?? 1;
  const half = s.half ?? {};
  if (half.C || half.aux) {
    const even = (n: number | undefined): boolean => (n ?? 0) % 2 === 0;
    if (s.C.cs !== 1 || !even(s.N) || !even(s.C.rs) || !even(s.C.off) || !even(s.C.offB) || !even(s.C.offH)) {
      throw new Error(`${s.label}: a 16-bit C needs c_cs 1 and even N, row stride and offsets (N ${s.N}, rs ${s.C.rs})`);
    }
  }
  const flag = (b: boolean | undefined): number => (b ? 1 : 0);
  const variant = s.variant ?? (ctx.preferBarrierFree ? 'direct' : 'tiled');
  const pipeline = ctx.pipeline(gemmShader, variant === 'direct' ? 'main_direct' : 'main', { EPILOGUE: Epilogue[epilogue], HALF_A: flag(half.A), HALF_B: flag(half.B), HALF_C: flag(half.C), HALF_AUX: flag(half.aux) });
  const words = [
    s.M, s.N, s.K, heads,
    s.A.off ?? 0, s.A.offB ?? 0, s.A.offH ?? 0, s.A.rs, s.A.cs,
    s.B.off ?? 0, s.B.offB ?? 0, s.B.offH ?? 0, s.B.rs, s.B.cs,
    s.C.off ?? 0, s.C.offB ?? 0, s.C.offH ?? 0, s.C.rs, s.C.cs,
    s.alpha ?? 1, s.beta ?? 0, 0, 0, 0,
  ];
  const bias = s.bias ?? { buffer: ctx.dummyRead, offset: 0, size: 256 };
  const aux = s.aux ?? { buffer: ctx.dummyWrite, offset: 0, size: 256 };
  program.dispatch(
    ctx.dispatch(s.label, pipeline, { words, floats: [19, 20] }, [s.A.buf, s.B.buf, s.C.buf, bias, aux], [Math.ceil(s.N / 64), Math.ceil(s.M / 64), batches * heads]),
  );
}
