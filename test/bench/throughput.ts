// Training throughput of the engine (samples/s, fp32 and fp16 mixed precision) on random token batches, the DistilBERT
// shape by default. Prints one JSON line per precision and batch size with the configuration and the adapter. The PyTorch figure on the same machine
// comes from throughput_torch.py in the same run (throughput.sh runs both and prints the ratio).
//   node --import ./test/helpers/register.mjs test/bench/throughput.ts [--shape distilbert|tiny] [--seq 192]
//     [--batches 16,32] [--precisions fp32,fp16] [--steps 10] [--warmup 2] [--toggles allow_unsafe_apis]
import { parseArgs } from 'node:util';
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import type { EncoderConfig } from '../../src/engine/model/config.ts';
import { EncoderClassifier, type Precision } from '../../src/engine/model/encoder.ts';
import { initModel } from '../../src/engine/model/folder.ts';
import { Trainer } from '../../src/engine/train/trainer.ts';
import type { TokenBatch } from '../../src/engine/model/inputs.ts';

const SHAPES: Record<string, Pick<EncoderConfig, 'hidden' | 'layers' | 'heads' | 'ffn'>> = {
  distilbert: { hidden: 768, layers: 6, heads: 12, ffn: 3072 },
  tiny: { hidden: 64, layers: 2, heads: 2, ffn: 128 },
};

const { values } = parseArgs({ options: { shape: { type: 'string' }, seq: { type: 'string' }, batches: { type: 'string' }, precisions: { type: 'string' }, steps: { type: 'string' }, warmup: { type: 'string' }, toggles: { type: 'string' } } });
const shapeName = values.shape ?? 'distilbert';
const shape = SHAPES[shapeName];
if (!shape) throw new Error(`--shape must be one of ${Object.keys(SHAPES).join(', ')}`);
const seq = Number(values.seq ?? 192), steps = Number(values.steps ?? 10), warmup = Number(values.warmup ?? 2);
const batches = (values.batches ?? '16,32').split(',').map(Number);
const precisions = (values.precisions ?? 'fp32').split(',') as Precision[];
const toggles = values.toggles ? values.toggles.split(',').map((t) => `enable-dawn-features=${t}`) : [];
const gpu = await openNodeDevice(toggles);
const config: EncoderConfig = { arch: 'distilbert', vocabSize: 30522, ...shape, maxPositions: 512, typeVocab: 0, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, classifierDropout: 0.2, numLabels: 2, initializerRange: 0.02, padTokenId: 0 };
const { params, arena } = initModel(config, 0);

function randomBatch(B: number, seed: number): TokenBatch {
  const ids = new Uint32Array(B * seq);
  let x = seed >>> 0;
  for (let i = 0; i < ids.length; i++) { x = (Math.imul(x, 1664525) + 1013904223) >>> 0; ids[i] = 1000 + (x % 29000); }
  return { ids, lengths: new Uint32Array(B).fill(seq), labels: new Uint32Array(B).map((_, i) => i % 2) };
}

for (const precision of precisions) for (const B of batches) {
  const model = new EncoderClassifier(gpu.device, config, params, { batch: B, seqLen: seq }, true, `bench-b${B}`, precision);
  const trainer = new Trainer(model, { lr: 5e-5, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 1, totalSteps: warmup + steps }, 1, 0);
  trainer.setWeights(arena);
  const data = Array.from({ length: 4 }, (_, i) => randomBatch(B, i));
  for (let i = 0; i < warmup; i++) await trainer.step([data[i % 4]!]);
  await trainer.collect();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await trainer.step([data[i % 4]!]);
  const records = await trainer.collect(); // the readback waits for the last step
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({
    engine: 'tunelab-webgpu', precision, shape: shapeName, ...shape, seq, batch: B, steps, seconds,
    samples_per_second: (B * steps) / seconds, last_loss: records.at(-1)?.loss, skipped_steps: records.filter((r) => r.skipped).length, adapter: gpu.adapterInfo, features: [...gpu.features],
  }));
  trainer.destroy();
  model.destroy();
}
gpu.device.destroy();
