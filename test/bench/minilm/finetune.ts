// TuneLab side of the all-MiniLM-L6-v2 IMDB comparison (issue 3): one fine-tuning run through the engine's own trial
// runner (runTrial: memory plan, one submit per step, metrics ring) on the split files of prepare.py/rebuild.py, then
// the test accuracy. The test split is passed as the trial's evaluation split and read once, at the end (nothing is
// tuned here). Prints one JSON line per precision and writes the epoch's row order for finetune_torch.py.
//   node finetune.mjs --dir /tmp/minilm [--precisions fp32,fp16] [--lr 1e-4] [--batch 32] [--train N] [--test N]
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openNodeDevice } from '../../../src/cli/node-gpu.ts';
import { readModelFolder } from '../../../src/cli/node-model.ts';
import { loadModelFolder } from '../../../src/engine/model/folder.ts';
import type { Precision } from '../../../src/engine/model/encoder.ts';
import { epochOrder, type SplitView } from '../../../src/engine/train/batches.ts';
import { DEFAULT_TRIAL, runTrial } from '../../../src/engine/train/run.ts';

const { values } = parseArgs({
  options: {
    dir: { type: 'string' }, precisions: { type: 'string' }, lr: { type: 'string' }, batch: { type: 'string' }, 'weight-decay': { type: 'string' },
    warmup: { type: 'string' }, seed: { type: 'string' }, train: { type: 'string' }, test: { type: 'string' }, out: { type: 'string' }, 'log-every': { type: 'string' },
  },
});
const dir = values.dir ?? '/tmp/minilm';
const meta = JSON.parse(await readFile(join(dir, 'data/meta.json'), 'utf8')) as { seq: number; train: number; test: number };

async function split(name: 'train' | 'test', limit: number | undefined): Promise<SplitView> {
  const total = meta[name];
  const count = Math.min(limit ?? total, total);
  const bytes = async (ext: string): Promise<Uint8Array> => new Uint8Array(await readFile(join(dir, `data/${name}.${ext}`)));
  const ids = await bytes('ids'), lengths = await bytes('lengths'), labels = await bytes('labels');
  return {
    ids: new Uint16Array(ids.buffer, ids.byteOffset, count * meta.seq), lengths: new Uint16Array(lengths.buffer, lengths.byteOffset, count),
    labels: labels.subarray(0, count), count, maxLen: meta.seq,
  };
}

const train = await split('train', values.train ? Number(values.train) : undefined);
const test = await split('test', values.test ? Number(values.test) : undefined);
const model = loadModelFolder(await readModelFolder(join(dir, 'model')), 0);
if (model.initialized.length) throw new Error(`finetune: tensors missing from the folder: ${model.initialized.join(', ')}`);
const gpu = await openNodeDevice();
const settings = {
  ...DEFAULT_TRIAL, learningRate: Number(values.lr ?? 1e-4), batchSize: Number(values.batch ?? 32), weightDecay: Number(values['weight-decay'] ?? 0.01),
  warmupRatio: Number(values.warmup ?? 0.1), epochs: 1, seed: Number(values.seed ?? 0), seqLen: meta.seq, evalsPerEpoch: 1, logEvery: Number(values['log-every'] ?? 20),
};
const out = values.out ?? join(dir, 'results');
await mkdir(out, { recursive: true });
await writeFile(join(out, 'order.json'), JSON.stringify(epochOrder(train.count, settings.seed, 0)));
for (const precision of (values.precisions ?? 'fp32').split(',') as Precision[]) {
  const t0 = performance.now();
  const result = await runTrial(gpu.device, model, { train, validation: test }, { ...settings, precision }, {
    onProgress: (points) => { const p = points.at(-1); if (p) console.error(`tunelab ${precision} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.samplesPerSecond.toFixed(1)} samples/s`); },
  });
  const seconds = (performance.now() - t0) / 1000;
  const line = {
    engine: 'tunelab-webgpu', model: 'all-MiniLM-L6-v2', precision, status: result.status, failure: result.message, train_reviews: train.count, test_reviews: test.count,
    seq: meta.seq, batch: settings.batchSize, lr: settings.learningRate, weight_decay: settings.weightDecay, warmup_ratio: settings.warmupRatio, epochs: 1,
    test_accuracy: result.valAccuracy, test_loss: result.valLoss, train_loss_first: result.trainLossFirst, train_loss_last: result.trainLossLast, steps: result.steps,
    train_samples_per_second: result.samplesPerSecond, wall_seconds_incl_eval: seconds, micro_batch: result.microBatch, accumulation: result.accumulation,
    loss_scale: result.lossScale, peak_gpu_bytes: result.peakGpuBytes, adapter: gpu.adapterInfo, features: [...gpu.features],
  };
  console.log(JSON.stringify(line));
  await writeFile(join(out, `tunelab-${precision}.json`), JSON.stringify(line, null, 1));
}
gpu.device.destroy();
