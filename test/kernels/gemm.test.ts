import { describe, expect, it } from 'vitest';
import { upload, readF32 } from '../../src/engine/buffers.ts';
import { KernelContext, Program, whole } from '../../src/engine/kernels/kernel.ts';
import { recordGemm, type EpilogueKind, type GemmSpec } from '../../src/engine/kernels/gemm/gemm.ts';
import { gemmRef } from '../../src/engine/kernels/gemm/gemm.ref.ts';
import { compareClose, seededFloats, testDevice } from '../helpers/gpu.ts';

interface Case { name: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean; epilogue?: EpilogueKind; beta?: number; batches?: number; heads?: number }

const cases: Case[] = [
  { name: '1x1x1', M: 1, N: 1, K: 1 },
  { name: 'awkward 37x53x29 bias', M: 37, N: 53, K: 29, epilogue: 'bias' },
  { name: 'A^T B^T 70x65x17', M: 70, N: 65, K: 17, transA: true, transB: true },
  { name: 'gelu 13x36x36', M: 13, N: 36, K: 36, epilogue: 'biasGelu' },
  { name: 'gelu grad 13x52x36', M: 13, N: 52, K: 36, epilogue: 'geluGrad' },
  { name: 'relu 5x33x33', M: 5, N: 33, K: 33, epilogue: 'biasRelu' },
  { name: 'tanh 5x33x33', M: 5, N: 33, K: 33, epilogue: 'biasTanh' },
  { name: 'accumulate beta=1 66x20x130', M: 66, N: 20, K: 130, beta: 1, transA: true },
  { name: 'batched heads 3x2 of 13x13x12', M: 13, N: 13, K: 12, batches: 3, heads: 2 },
  { name: 'DistilBERT FFN shard 128x768x768', M: 128, N: 768, K: 768, epilogue: 'bias' },
];

describe('gemm kernel vs CPU reference', () => {
  for (const c of cases) {
    for (const variant of ['tiled', 'direct'] as const) it(`${c.name} (${variant})`, async () => {
      const { device } = await testDevice();
      const Z = (c.batches ?? 1) * (c.heads ?? 1);
      const aData = seededFloats(1, c.M * c.K * Z);
      const bData = seededFloats(2, c.K * c.N * Z);
      const cData = seededFloats(3, c.M * c.N * Z);
      const biasData = seededFloats(4, c.N);
      const auxData = seededFloats(5, c.M * c.N * Z, -3, 3);
      const heads = c.heads ?? 1;
      // A stored as [M,K] (or [K,M] when transposed), per batch z at offset z*M*K split into (b, h).
      const aOp = c.transA ? { rs: 1, cs: c.M } : { rs: c.K, cs: 1 };
      const bOp = c.transB ? { rs: 1, cs: c.K } : { rs: c.N, cs: 1 };
      const offs = (per: number) => ({ offB: per * heads, offH: per });
      const ref = { data: cData.slice(), rs: c.N, cs: 1, ...offs(c.M * c.N) };
      const auxRef = auxData.slice();
      const common = { M: c.M, N: c.N, K: c.K, batches: c.batches ?? 1, heads, beta: c.beta ?? 0, epilogue: c.epilogue ?? 'none' } as const;
      gemmRef({ ...common, A: { data: aData, ...aOp, ...offs(c.M * c.K) }, B: { data: bData, ...bOp, ...offs(c.K * c.N) }, C: ref, bias: biasData, aux: auxRef });

      const ctx = new KernelContext(device, {}, 'test-gemm');
      const program = new Program('gemm');
      const A = upload(device, 'A', aData), B = upload(device, 'B', bData), C = upload(device, 'C', cData);
      const bias = upload(device, 'bias', biasData), aux = upload(device, 'aux', auxData);
      const spec: GemmSpec = { variant,
        label: c.name, ...common,
        A: { buf: whole(A), ...aOp, ...offs(c.M * c.K) }, B: { buf: whole(B), ...bOp, ...offs(c.K * c.N) }, C: { buf: whole(C), rs: c.N, cs: 1, ...offs(c.M * c.N) },
        bias: whole(bias), aux: whole(aux),
      };
      recordGemm(ctx, program, spec);
      ctx.finalize();
      const enc = device.createCommandEncoder({ label: 'test' });
      program.encode(enc);
      device.queue.submit([enc.finish()]);
      const got = await readF32(device, C, 0, c.M * c.N * Z);
      // fp32 accumulation error grows like sqrt(K) for inputs in [-1, 1).
      const r = compareClose(c.name, got, ref.data, 1e-5 * Math.max(1, Math.sqrt(c.K / 16)), 1e-4);
      console.log(r.worst);
      expect(r.ok, r.worst).toBe(true);
      if (c.epilogue === 'biasGelu') {
        const gotAux = await readF32(device, aux, 0, c.M * c.N * Z);
        const ra = compareClose(`${c.name} aux`, gotAux, auxRef, 1e-5, 1e-4);
        expect(ra.ok, ra.worst).toBe(true);
      }
      for (const b of [A, B, C, bias, aux]) b.destroy();
      ctx.destroy();
    });
  }
});
