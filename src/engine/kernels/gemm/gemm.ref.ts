// CPU reference of gemm.wgsl (float64 accumulation), for the kernel tests.
import type { EpilogueKind } from './gemm.ts';

export interface RefOperand { data: Float32Array; rs: number; cs: number; off?: number; offB?: number; offH?: number }

export function erfRef(x: number): number {
  // Abramowitz & Stegun 7.1.26 is what the kernel uses; the reference uses a more accurate series/continued form.
  const a = Math.abs(x);
  const t = 1 / (1 + 0.5 * a);
  const y = t * Math.exp(-a * a - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - y : y - 1;
}
export const geluRef = (x: number): number => 0.5 * x * (1 + erfRef(x / Math.SQRT2));
export const geluGradRef = (x: number): number => 0.5 * (1 + erfRef(x / Math.SQRT2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

export function gemmRef(s: {
  M: number; N: number; K: number; batches?: number; heads?: number;
  A: RefOperand; B: RefOperand; C: RefOperand; alpha?: number; beta?: number;
  epilogue?: EpilogueKind; bias?: Float32Array; aux?: Float32Array;
}): void {
  const heads = s.heads ?? 1;
  const Z = (s.batches ?? 1) * heads;
  for (let z = 0; z < Z; z++) {
    const b = Math.floor(z / heads), h = z % heads;
    const ab = (s.A.off ?? 0) + b * (s.A.offB ?? 0) + h * (s.A.offH ?? 0);
    const bb = (s.B.off ?? 0) + b * (s.B.offB ?? 0) + h * (s.B.offH ?? 0);
    const cb = (s.C.off ?? 0) + b * (s.C.offB ?? 0) + h * (s.C.offH ?? 0);
    for (let m = 0; m < s.M; m++) {
      for (let n = 0; n < s.N; n++) {
        let acc = 0;
        for (let k = 0; k < s.K; k++) acc += s.A.data[ab + m * s.A.rs + k * s.A.cs]! * s.B.data[bb + k * s.B.rs + n * s.B.cs]!;
        const idx = cb + m * s.C.rs + n * s.C.cs;
        let v = (s.alpha ?? 1) * acc + (s.beta ? s.beta * s.C.data[idx]! : 0);
        const bias = s.bias ? s.bias[n]! : 0;
        switch (s.epilogue ?? 'none') {
          case 'bias': v += bias; break;
          case 'biasGelu': v += bias; s.aux![idx] = v; v = geluRef(v); break;
          case 'biasRelu': v = Math.max(v + bias, 0); break;
          case 'biasTanh': v = Math.tanh(v + bias); break;
          case 'geluGrad': v *= geluGradRef(s.aux![idx]!); break;
          case 'none': break;
        }
        s.C.data[idx] = v;
      }
    }
  }
}
