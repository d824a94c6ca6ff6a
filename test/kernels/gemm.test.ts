import { describe, expect, it } from 'vitest';
import { upload, readF32 } from '../../src/engine/buffers.ts';
import { KernelContext, Program, whole } from '../../src/engine/kernels/kernel.ts';
import { recordGemm, type EpilogueKind, type GemmSpec } from '../../src/engine/kernels/gemm/gemm.ts';
import { gemmRef } from '../../src/engine/kernels/gemm/gemm.ref.ts';
import { compareClose, seededFloats, testDevice } from '../helpers/gpu.ts';
import { packHalf, readHalf, roundHalf } from '../helpers/half.ts';

interface Case { name: string; M: number; N: number; K: number; transA?: boolean; transB?: boolean; epilogue?: EpilogueKind; beta?: number; batches?: number; heads?: number; /** extra elements per row of A and B (16-bit cases) */ pad?: number }

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
  { name: 'several tiles both ways, partial 150x136x40 A^T bias', M: 150, N: 136, K: 40, transA: true, epilogue: 'bias' },
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

// Mixed precision: A, B and C (and aux where the epilogue uses it) stored as packed binary16, as the encoder binds
// activations and the params16 weight copy. Shapes as the encoder uses them (x W^T with W [N, K]; dX = dy W with beta 1;
// per-head batches), none a multiple of the 64x64 tile; N even (a 16-bit C is written in u32 pairs).
const halfCases: Case[] = [
  { name: 'x W^T + bias 37x54x29', M: 37, N: 54, K: 29, transB: true, epilogue: 'bias' },
  { name: 'dy W accumulate beta=1 70x66x130', M: 70, N: 66, K: 130, beta: 1 },
  { name: 'gelu 13x36x36 (16-bit aux written)', M: 13, N: 36, K: 36, transB: true, epilogue: 'biasGelu' },
  { name: 'gelu grad 21x52x36 (16-bit aux read)', M: 21, N: 52, K: 36, epilogue: 'geluGrad' },
  { name: 'batched heads 2x2 of 13x14x12', M: 13, N: 14, K: 12, batches: 2, heads: 2 },
  { name: 'several tiles, partial 131x134x20 gelu', M: 131, N: 134, K: 20, transB: true, epilogue: 'biasGelu' },
  // Padded strides make odd extents pairable (two elements per word): the pair that straddles M or K must drop its
  // second element. Here A pairs along m (A^T) and B along k (B^T).
  { name: 'A^T B^T paired, odd M and K, padded 71x66x41', M: 71, N: 66, K: 41, transA: true, transB: true, pad: 1 },
  { name: 'A paired along odd K (padded), B unpaired 37x54x29', M: 37, N: 54, K: 29, pad: 1, epilogue: 'bias' },
];

describe('gemm kernel with 16-bit operands (HALF_A/B/C/AUX) vs CPU reference on binary16-rounded inputs', () => {
  for (const c of halfCases) {
    for (const variant of ['tiled', 'direct'] as const) it(`${c.name} (${variant})`, async () => {
      const { device } = await testDevice();
      const Z = (c.batches ?? 1) * (c.heads ?? 1);
      const heads = c.heads ?? 1;
      const usesAux = c.epilogue === 'biasGelu' || c.epilogue === 'geluGrad';
      // The kernel sees the binary16 values: the reference takes the same rounded inputs (bias stays fp32).
      const pad = c.pad ?? 0;
      const aLd = (c.transA ? c.M : c.K) + pad, bLd = (c.transB ? c.K : c.N) + pad; // row strides as stored
      const aPer = (c.transA ? c.K : c.M) * aLd, bPer = (c.transB ? c.N : c.K) * bLd; // elements per batch
      // Padding holds NaN: a kernel that lets a padding element into a product (0 * NaN) fails the comparison.
      const nanPad = (x: Float32Array, ld: number, extent: number): Float32Array => x.map((v, i) => (i % ld >= extent ? NaN : v));
      const aData = nanPad(roundHalf(seededFloats(11, aPer * Z)), aLd, c.transA ? c.M : c.K);
      const bData = nanPad(roundHalf(seededFloats(12, bPer * Z)), bLd, c.transB ? c.K : c.N);
      const cData = roundHalf(seededFloats(13, c.M * c.N * Z));
      const biasData = seededFloats(14, c.N);
      const auxData = roundHalf(seededFloats(15, c.M * c.N * Z, -3, 3));
      const aOp = c.transA ? { rs: 1, cs: aLd } : { rs: aLd, cs: 1 };
      const bOp = c.transB ? { rs: 1, cs: bLd } : { rs: bLd, cs: 1 };
      const offs = (per: number) => ({ offB: per * heads, offH: per });
      const ref = { data: cData.slice(), rs: c.N, cs: 1, ...offs(c.M * c.N) };
      const auxRef = auxData.slice();
      const common = { M: c.M, N: c.N, K: c.K, batches: c.batches ?? 1, heads, beta: c.beta ?? 0, epilogue: c.epilogue ?? 'none' } as const;
      gemmRef({ ...common, A: { data: aData, ...aOp, ...offs(aPer) }, B: { data: bData, ...bOp, ...offs(bPer) }, C: ref, bias: biasData, aux: auxRef });

      const ctx = new KernelContext(device, {}, 'test-gemm-half');
      const program = new Program('gemm-half');
      const A = upload(device, 'A16', packHalf(aData)), B = upload(device, 'B16', packHalf(bData)), C = upload(device, 'C16', packHalf(cData));
      const bias = upload(device, 'bias', biasData), aux = upload(device, 'aux16', packHalf(auxData));
      recordGemm(ctx, program, {
        variant, label: c.name, ...common,
        A: { buf: whole(A), ...aOp, ...offs(aPer) }, B: { buf: whole(B), ...bOp, ...offs(bPer) }, C: { buf: whole(C), rs: c.N, cs: 1, ...offs(c.M * c.N) },
        bias: whole(bias), aux: whole(aux), half: { A: true, B: true, C: true, aux: usesAux },
      });
      ctx.finalize();
      const enc = device.createCommandEncoder({ label: 'test-half' });
      program.encode(enc);
      device.queue.submit([enc.finish()]);
      // The fp32 result is rounded once to binary16 on store. WGSL lets pack2x16float round to either neighbour, so up
      // to one unit in the last place: 2^-10 relative (round to nearest, as on SwiftShader, stays within half of it),
      // on top of the fp32 accumulation error of the fp32 test (atol, which also covers the subnormal spacing 6e-8).
      const atol = 1e-5 * Math.max(1, Math.sqrt(c.K / 16)), rtol = 2 ** -10;
      const r = compareClose(c.name, await readHalf(device, C, c.M * c.N * Z), ref.data, atol, rtol);
      console.log(r.worst);
      expect(r.ok, r.worst).toBe(true);
      if (c.epilogue === 'biasGelu') {
        const ra = compareClose(`${c.name} aux`, await readHalf(device, aux, c.M * c.N * Z), auxRef, atol, rtol);
        expect(ra.ok, ra.worst).toBe(true);
      }
      for (const b of [A, B, C, bias, aux]) b.destroy();
      ctx.destroy();
    });
  }
});
