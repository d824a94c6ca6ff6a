// Trials that survive any configuration: micro-batching equals the full batch, memory back-off is recorded, buffers do
// not leak across trials, a lost device is reported and a new one works, fp16 divergence, the search-space extremes.
import { describe, expect, it } from 'vitest';
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import { EncoderClassifier } from '../../src/engine/model/encoder.ts';
import { gatherBatch } from '../../src/engine/train/batches.ts';
import { trialBytes } from '../../src/engine/train/memory.ts';
import { DEFAULT_TRIAL, runTrial, type TrialSettings } from '../../src/engine/train/run.ts';
import { Trainer } from '../../src/engine/train/trainer.ts';
import { compareClose, testDevice } from '../helpers/gpu.ts';
import { syntheticSplit, tinyModel } from '../helpers/tiny.ts';

const NO_DROPOUT = { hiddenDropout: 0, attentionDropout: 0, classifierDropout: 0 };
const base = (over: Partial<TrialSettings>): TrialSettings => ({ ...DEFAULT_TRIAL, seqLen: 16, batchSize: 8, evalsPerEpoch: 1, logEvery: 2, ...over });

describe('micro-batching', () => {
  it('one batch of 32 equals four micro-batches of 8 (gradients, loss, weights after a step)', async () => {
    const { device } = await testDevice();
    const m = tinyModel(NO_DROPOUT);
    const split = syntheticSplit(32, 16, 128, 1);
    const rows = Array.from({ length: 32 }, (_, i) => i);
    const hyper = { lr: 1e-3, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 0, totalSteps: 10 };
    const run = async (micro: number): Promise<{ grads: Float32Array; params: Float32Array; loss: number }> => {
      const enc = new EncoderClassifier(device, m.config, m.params, { batch: micro, seqLen: 16 }, true, `mb${micro}`);
      const tr = new Trainer(enc, hyper, 32 / micro, 0);
      tr.setWeights(m.arena);
      const micros = Array.from({ length: 32 / micro }, (_, k) => gatherBatch(split, rows.slice(k * micro, (k + 1) * micro), micro, 16));
      tr.forwardBackward(micros);
      const grads = await tr.readArena('grads');
      tr.reset(m.arena);
      await tr.step(micros);
      const [rec] = await tr.collect();
      const params = await tr.readArena('params');
      tr.destroy();
      enc.destroy();
      return { grads, params, loss: rec!.loss };
    };
    const full = await run(32), split8 = await run(8);
    const g = compareClose('grads 4x8 vs 32', split8.grads, full.grads, 1e-7, 1e-4);
    console.log(g.worst);
    expect(g.ok, g.worst).toBe(true);
    expect(Math.abs(split8.loss - full.loss)).toBeLessThan(1e-6);
    // Key biases have rounding-noise gradients that Adam turns into +-lr steps (see golden.test.ts): bound lr there.
    for (const [name, place] of m.params.layout.tensors) {
      const atol = /k_lin\.bias$/.test(name) ? 2e-3 : 1e-6;
      const r = compareClose(`after.${name}`, split8.params.subarray(place.offset, place.offset + place.count), full.params.subarray(place.offset, place.offset + place.count), atol, 1e-4);
      expect(r.ok, r.worst).toBe(true);
    }
  });

  it('a memory budget forces micro-batches; the result records micro_batch and accumulation', async () => {
    const { device } = await testDevice();
    const m = tinyModel();
    const b8 = trialBytes(m.config, m.params, 8, 16, true).total, b2 = trialBytes(m.config, m.params, 2, 16, true).total;
    const budget = Math.floor((b2 + trialBytes(m.config, m.params, 4, 16, true).total) / 2); // fits 2, not 4
    expect(b8).toBeGreaterThan(budget);
    const plans: number[] = [];
    const r = await runTrial(device, m, { train: syntheticSplit(16, 16, 128, 2), validation: syntheticSplit(4, 16, 128, 3) },
      base({ memoryBudget: budget, maxSteps: 1 }), { onPlan: (p) => plans.push(p.micro) });
    expect(r.status, r.message).toBe('complete');
    expect(r.microBatch).toBe(2);
    expect(r.accumulation).toBe(4);
    expect(r.peakGpuBytes).toBeLessThanOrEqual(budget);
    expect(r.backoffs.length).toBe(2); // 8 and 4 rejected
    expect(plans).toEqual([2]);
  });

  it('under fp16 the plan counts the GEMMs\' 16-bit weight copy (half the fp32 arena) as the encoder allocates it', async () => {
    const { device } = await testDevice();
    const m = tinyModel();
    const f32 = trialBytes(m.config, m.params, 4, 16, true), f16 = trialBytes(m.config, m.params, 4, 16, true, 'fp16');
    expect(f32.params16).toBe(0);
    expect(f16.params16).toBe(f16.params / 2);
    expect(f16.total).toBe(f16.params + f16.params16 + f16.grads + f16.optimizer + f16.activations);
    const enc = new EncoderClassifier(device, m.config, m.params, { batch: 4, seqLen: 16 }, true, 'plan-fp16', 'fp16');
    expect(enc.params16?.size).toBe(f16.params16);
    enc.destroy();
  });
});

describe('resources and failures', () => {
  it('many trials in one process leave no buffers behind', async () => {
    const { device } = await testDevice();
    const live = new Map<GPUBuffer, number>();
    let created = 0;
    const create = device.createBuffer.bind(device);
    device.createBuffer = (d: GPUBufferDescriptor): GPUBuffer => {
      const b = create(d);
      created++;
      live.set(b, d.size);
      const destroy = b.destroy.bind(b);
      b.destroy = (): undefined => { live.delete(b); destroy(); return undefined; };
      return b;
    };
    try {
      const m = tinyModel();
      const data = { train: syntheticSplit(16, 16, 128, 4), validation: syntheticSplit(4, 16, 128, 5) };
      const bytes = (): number => [...live.values()].reduce((a, b) => a + b, 0);
      const counts: number[] = [];
      for (let t = 0; t < 6; t++) {
        const r = await runTrial(device, m, data, base({ maxSteps: 2, seed: t, learningRate: t === 3 ? 10 : 5e-5, precision: t % 2 ? 'fp16' : 'fp32', ...(t === 4 ? { memoryBudget: trialBytes(m.config, m.params, 2, 16, true).total } : {}) }));
        expect(['complete', 'failed']).toContain(r.status);
        counts.push(live.size, bytes());
      }
      console.log(`live buffers/bytes after each trial: ${counts.join(' ')}`);
      expect(created).toBeGreaterThan(6 * 20); // the counter saw every trial's buffers
      expect(live.size).toBe(0);
      expect(bytes()).toBe(0);
    } finally {
      device.createBuffer = create;
    }
  });

  it('a device lost mid-trial is reported; a new device runs the trial to completion', async () => {
    process.env.TUNELAB_SWIFTSHADER ??= '1';
    const m = tinyModel();
    const data = { train: syntheticSplit(32, 16, 128, 6), validation: syntheticSplit(4, 16, 128, 7) };
    const first = await openNodeDevice();
    const r1 = await runTrial(first.device, m, data, base({ maxSteps: 4, logEvery: 1 }), { onProgress: () => first.device.destroy() });
    expect(r1.status).toBe('failed');
    expect(r1.failureReason, r1.message).toBe('device-lost');
    const second = await openNodeDevice();
    const r2 = await runTrial(second.device, m, data, base({ maxSteps: 4, logEvery: 1 }));
    expect(r2.status, r2.message).toBe('complete');
    expect(r2.steps).toBe(4);
    second.device.destroy();
  });

  it('fp16: a persistent overflow (lr 10) fails as diverged; fp32 too', async () => {
    const { device } = await testDevice();
    const m = tinyModel();
    const data = { train: syntheticSplit(160, 16, 128, 8), validation: syntheticSplit(4, 16, 128, 9) };
    for (const precision of ['fp16', 'fp32'] as const) {
      const r = await runTrial(device, m, data, base({ learningRate: 10, warmupRatio: 0, precision, logEvery: 5 }));
      console.log(`${precision} lr 10: ${r.status} ${r.failureReason ?? ''} after ${r.steps} steps: ${r.message ?? ''}`);
      expect(r.status).toBe('failed');
      expect(r.failureReason).toBe('diverged');
      expect(r.steps).toBeLessThan(20);
      expect(r.precision).toBe(precision);
    }
  });

  // The corners of the default search space (lr log-uniform 1e-5..1e-3, batch 16 or 32, weight decay 1e-6..1e-2), in
  // fp32 and fp16. CI runs them at sequence length 24: on SwiftShader one batch-32 step at 192 tokens takes minutes
  // (measured 161 s for batch 32 fp32 and 101 s for batch 16 fp16, both complete); TUNELAB_SLOW_TESTS=1 runs seq 192.
  it('the default search space extremes never crash a trial', async () => {
    const { device } = await testDevice();
    const m = tinyModel();
    const seqLen = process.env.TUNELAB_SLOW_TESTS === '1' ? 192 : 24;
    const data = { train: syntheticSplit(64, seqLen, 128, 10), validation: syntheticSplit(2, seqLen, 128, 11) };
    const corners: Partial<TrialSettings>[] = [
      { learningRate: 1e-3, weightDecay: 1e-2, batchSize: 32 },
      { learningRate: 1e-3, weightDecay: 1e-6, batchSize: 16, precision: 'fp16' },
      { learningRate: 1e-5, weightDecay: 1e-6, batchSize: 32, precision: 'fp16' },
      { learningRate: 1e-5, weightDecay: 1e-2, batchSize: 16 },
    ];
    for (const c of corners) {
      const t0 = performance.now();
      const r = await runTrial(device, m, data, base({ seqLen, maxSteps: 2, logEvery: 1, ...c }));
      console.log(`${JSON.stringify(c)} seq ${seqLen}: ${r.status} in ${((performance.now() - t0) / 1000).toFixed(1)} s, loss ${r.trainLossFirst} -> ${r.trainLossLast}`);
      expect(r.status, r.message).toBe('complete');
      expect(Number.isFinite(r.trainLossLast)).toBe(true);
    }
    // Invalid settings are results, not exceptions.
    const bad = await runTrial(device, m, data, base({ seqLen: 1000 }));
    expect(bad).toMatchObject({ status: 'failed', failureReason: 'invalid-config' });
  });
});
