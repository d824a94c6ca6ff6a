// Checks the 16-bit path on a real GPU, with or without native f16 (`shader-f16`, lib/half-f16.wgsl): the 16-bit GEMM
// against the CPU reference (both variants, including outputs beyond binary16's range, which must become inf), the
// binary16 weight copy (params16) after setWeights and after fp16 steps, and fp16 against fp32 logits. Prints one line
// per check; exits 1 when a check fails. Bundle with test/bench/gpu-bundle.mjs; pass Dawn toggles, e.g.
//   node f16-check.mjs vulkan_enable_f16_on_nvidia      (NVIDIA's Vulkan driver offers shader-f16 only with it)
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import { upload, readBytes } from '../../src/engine/buffers.ts';
import { KernelContext, Program, whole } from '../../src/engine/kernels/kernel.ts';
import { recordGemm } from '../../src/engine/kernels/gemm/gemm.ts';
import { gemmRef } from '../../src/engine/kernels/gemm/gemm.ref.ts';
import { halfToFloat } from '../../src/engine/model/safetensors.ts';
import { EncoderClassifier } from '../../src/engine/model/encoder.ts';
import { Trainer } from '../../src/engine/train/trainer.ts';
import { gatherBatch } from '../../src/engine/train/batches.ts';
import { seededFloats } from '../helpers/gpu.ts';
import { syntheticSplit, tinyModel } from '../helpers/tiny.ts';
import { halfBits, packHalf, params16Mismatches, roundHalf } from '../helpers/half.ts';

const lines: string[] = [];
const log = (s: string): void => { lines.push(s); console.log(s); };

const toggles = process.argv.slice(2).map((t) => `enable-dawn-features=${t}`);
const { device, adapterInfo } = await openNodeDevice(toggles);
const probe = new KernelContext(device, {}, 'probe');
const shaderF16 = probe.shaderF16;
probe.destroy();
log(`adapter ${adapterInfo.description || adapterInfo.vendor}; toggles [${toggles.join(' ')}]; shader-f16 ${shaderF16 ? 'used (half-f16.wgsl)' : 'not offered (half.wgsl)'}`);
let failed = 0;
const check = (ok: boolean, line: string): void => { if (!ok) failed++; log(`${ok ? 'ok  ' : 'FAIL'} ${line}`); };
// 1. 16-bit GEMM: worst error in units of the output's binary16 ulp.
const cases = [
  { name: 'x W^T + bias 37x54x29', M: 37, N: 54, K: 29, transB: true, epilogue: 'bias' as const },
  { name: 'dy W beta=1 70x66x130', M: 70, N: 66, K: 130, beta: 1 },
  { name: 'FFN 128x768x768', M: 128, N: 768, K: 768, transB: true, epilogue: 'bias' as const },
  { name: 'overflow alpha=4e4 64x64x64', M: 64, N: 64, K: 64, alpha: 4e4 },
];
for (const c of cases) for (const variant of ['tiled', 'direct'] as const) {
  const a = roundHalf(seededFloats(11, c.M * c.K)), b = roundHalf(seededFloats(12, c.K * c.N)), cc = roundHalf(seededFloats(13, c.M * c.N)), bias = seededFloats(14, c.N);
  const bOp = c.transB ? { rs: 1, cs: c.K } : { rs: c.N, cs: 1 };
  const ref = { data: cc.slice(), rs: c.N, cs: 1 };
  const common = { M: c.M, N: c.N, K: c.K, alpha: c.alpha ?? 1, beta: c.beta ?? 0, epilogue: c.epilogue ?? 'none' } as const;
  gemmRef({ ...common, A: { data: a, rs: c.K, cs: 1 }, B: { data: b, ...bOp }, C: ref, bias });
  const ctx = new KernelContext(device, {}, 'gpu-check'), prog = new Program('g');
  const A = upload(device, 'A', packHalf(a)), B = upload(device, 'B', packHalf(b)), C = upload(device, 'C', packHalf(cc)), Bi = upload(device, 'bias', bias);
  recordGemm(ctx, prog, { variant, label: c.name, ...common, A: { buf: whole(A), rs: c.K, cs: 1 }, B: { buf: whole(B), ...bOp }, C: { buf: whole(C), rs: c.N, cs: 1 }, bias: whole(Bi), half: { A: true, B: true, C: true } });
  ctx.finalize();
  const enc = device.createCommandEncoder(); prog.encode(enc); device.queue.submit([enc.finish()]);
  const words = new Uint32Array(await readBytes(device, C, 0, c.M * c.N * 2));
  let worstUlp = 0, exact = 0, infWanted = 0, infGot = 0;
  const atol = 1e-5 * Math.max(1, Math.sqrt(c.K / 16)) * (c.alpha ?? 1); // fp32 accumulation error scales with alpha
  for (let i = 0; i < c.M * c.N; i++) {
    const h = (words[i >> 1]! >>> (16 * (i & 1))) & 0xffff, w = ref.data[i]!;
    if (Math.abs(w) > 65504) { infWanted++; if (h === halfBits(w)) infGot++; continue; }
    worstUlp = Math.max(worstUlp, Math.abs(halfToFloat(h) - w) / (atol + 2 ** -10 * Math.abs(w)));
    if (h === halfBits(w)) exact++;
  }
  check(worstUlp <= 1 && infGot === infWanted, `gemm16 ${c.name} ${variant}: worst error ${worstUlp.toFixed(3)} of the bound (atol + 2^-10 |want|); ${exact}/${c.M * c.N} equal to RNE of the f64 reference; ${infGot}/${infWanted} out-of-range outputs stored as inf`);
  for (const x of [A, B, C, Bi]) x.destroy();
  ctx.destroy();
}
// 2. params16 after setWeights and after steps: exact binary16 (RNE) of the fp32 arena.
const m = tinyModel({ hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0 });
const split = syntheticSplit(64, 16, 128, 1);
const batchOf = (k: number) => gatherBatch(split, Array.from({ length: 8 }, (_, i) => 8 * k + i), 8, 16);
const hyper = { lr: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 0, totalSteps: 10 };
const enc = new EncoderClassifier(device, m.config, m.params, { batch: 8, seqLen: 16 }, true, 'chk16', 'fp16');
const tr = new Trainer(enc, hyper, 1, 0);
tr.setWeights(m.arena);
const bad0 = (await params16Mismatches(enc, m.arena)).length;
check(bad0 === 0, `params16 after setWeights: ${bad0} of ${m.arena.length} differ from RNE`);
for (let s = 0; s < 4; s++) await tr.step([batchOf(s)]);
const recs = await tr.collect();
const after = await tr.readArena('params');
const bad4 = (await params16Mismatches(enc, after)).length;
check(bad4 === 0 && recs.every((r) => Number.isFinite(r.loss)), `params16 after 4 fp16 steps (losses ${recs.map((r) => r.loss.toFixed(4)).join(' ')}, skipped ${recs.filter((r) => r.skipped).length}): ${bad4} differ`);
// 3. inference fp16 vs fp32 logits.
function inferenceTrainer(precision: 'fp32' | 'fp16'): Trainer {
  const model = new EncoderClassifier(device, m.config, m.params, { batch: 8, seqLen: 16 }, false, `inf-${precision}`, precision);
  const trainer = new Trainer(model, hyper, 1, 0);
  trainer.setWeights(after);
  return trainer;
}
const t32 = inferenceTrainer('fp32'), t16 = inferenceTrainer('fp16');
const want = await t32.predict(batchOf(5)), got = await t16.predict(batchOf(5));
const dLogit = Math.max(...got.map((v, i) => Math.abs(v - want[i]!)));
check(dLogit <= 1e-3 + 4e-3 * Math.max(...want.map(Math.abs)), `logits fp16 vs fp32: max |d| ${dLogit.toExponential(2)} (max |logit| ${Math.max(...want.map(Math.abs)).toFixed(3)})`);
const { writeFileSync } = await import('node:fs');
if (process.env.OUT) writeFileSync(`${process.env.OUT}/f16-check${shaderF16 ? '-native' : '-portable'}.txt`, lines.join('\n') + '\n');
process.exit(failed ? 1 : 0);
