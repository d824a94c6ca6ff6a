// `tunelab train`: fine-tune a model folder on a dataset (validation held out of train, seeded), print progress on
// stderr and one JSON line with the result. A diverged or out-of-memory run is a result (exit 0), not a crash.
import { parseArgs } from 'node:util';
import { DataError } from '../../data/errors.ts';
import { prepareDataset } from '../../data/prepare.ts';
import { exportModelFolder, loadModelFolder } from '../../engine/model/folder.ts';
import { DEFAULT_TRIAL, runTrial, type TrialSettings } from '../../engine/train/run.ts';
import { numFlag, processIO, UsageError, type CommandIO } from '../io.ts';
import { NodeDataFileSystem, NodeShardStore, readTokenizerFiles, shardCacheDir } from '../node-files.ts';
import { openNodeDevice } from '../node-gpu.ts';
import { readModelFolder, writeModelFolder } from '../node-model.ts';

const USAGE = `usage: tunelab train --model DIR --data PATH [--max-len 192] [--batch 16] [--lr 5e-5] [--weight-decay 0.01]
  [--warmup-ratio 0.1] [--epochs 1] [--max-grad-norm 1] [--train-limit N] [--val-limit N] [--val-fraction 0.1]
  [--evals-per-epoch 2] [--max-steps N] [--memory-budget BYTES] [--micro-batch N] [--precision fp32|fp16]
  [--seed 0] [--cache-dir D] [--out DIR] [--json]`;

const STRING_FLAGS = ['model', 'data', 'max-len', 'batch', 'lr', 'weight-decay', 'warmup-ratio', 'epochs', 'max-grad-norm', 'train-limit', 'val-limit',
  'val-fraction', 'evals-per-epoch', 'max-steps', 'memory-budget', 'micro-batch', 'precision', 'seed', 'cache-dir', 'out'];

export async function trainCommand(argv: string[], io: CommandIO = processIO): Promise<number> {
  const t0 = performance.now();
  try {
    const { values } = parseArgs({
      args: argv, strict: true,
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
        json: { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
    const v = values as Record<string, string | boolean | undefined>;
    const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
    if (v.help) { io.stdout(USAGE); return 0; }
    const modelDir = str('model'), dataPath = str('data');
    if (!modelDir || !dataPath) throw new UsageError('--model and --data are required');
    const precision = str('precision') ?? 'fp32';
    if (precision !== 'fp32' && precision !== 'fp16') throw new UsageError(`--precision ${precision}: must be fp32 or fp16`);
    const seed = numFlag('seed', str('seed'), true) ?? 0;
    const maxLen = numFlag('max-len', str('max-len'), true) ?? 192;
    const settings: TrialSettings = {
      ...DEFAULT_TRIAL, seed, seqLen: maxLen,
      batchSize: numFlag('batch', str('batch'), true) ?? 16,
      learningRate: numFlag('lr', str('lr'), false) ?? 5e-5,
      weightDecay: numFlag('weight-decay', str('weight-decay'), false) ?? 0.01,
      warmupRatio: numFlag('warmup-ratio', str('warmup-ratio'), false) ?? 0.1,
      epochs: numFlag('epochs', str('epochs'), true) ?? 1,
      maxGradNorm: numFlag('max-grad-norm', str('max-grad-norm'), false) ?? 1,
      evalsPerEpoch: numFlag('evals-per-epoch', str('evals-per-epoch'), true) ?? 2,
      precision,
    };
    const maxSteps = numFlag('max-steps', str('max-steps'), true);
    const memoryBudget = numFlag('memory-budget', str('memory-budget'), true);
    const microBatch = numFlag('micro-batch', str('micro-batch'), true);
    if (maxSteps !== undefined) settings.maxSteps = maxSteps;
    if (memoryBudget !== undefined) settings.memoryBudget = memoryBudget;
    if (microBatch !== undefined) settings.microBatch = microBatch;

    const model = loadModelFolder(await readModelFolder(modelDir), seed);
    if (model.initialized.length) io.stderr(`train: initialised (seed ${seed}): ${model.initialized.join(', ')}`);
    const trainLimit = numFlag('train-limit', str('train-limit'), true);
    const valLimit = numFlag('val-limit', str('val-limit'), true);
    const data = await prepareDataset({
      fs: new NodeDataFileSystem(), source: dataPath, tokenizerFiles: await readTokenizerFiles(modelDir), maxLen, seed,
      valFraction: numFlag('val-fraction', str('val-fraction'), false) ?? 0.1,
      ...(trainLimit !== undefined ? { trainLimit } : {}), ...(valLimit !== undefined ? { valLimit } : {}),
      store: new NodeShardStore(shardCacheDir(str('cache-dir'))),
    });
    io.stderr(`train: data ${data.train.count} train / ${data.validation.count} validation rows (${data.cached ? 'cached' : 'tokenized'} in ${data.seconds.toFixed(1)} s)`);
    const gpu = await openNodeDevice();
    io.stderr(`train: adapter ${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`.trimEnd());
    let lastLog = 0;
    const result = await runTrial(gpu.device, model, { train: data.train, validation: data.validation }, settings, {
      onPlan: (p) => io.stderr(`train: memory plan (${precision}): micro-batch ${p.micro} x ${p.accumulation} accumulation, ${(p.bytes.total / 2 ** 20).toFixed(1)} MiB${p.backoffs.length ? ` (${p.backoffs.join('; ')})` : ''}`),
      onProgress: (points) => {
        const p = points.at(-1);
        if (!p || performance.now() - lastLog < 1000) return;
        lastLog = performance.now();
        io.stderr(`train: step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} grad-norm ${p.gradNorm.toFixed(3)} ${p.samplesPerSecond.toFixed(1)} samples/s`);
      },
      onEval: (e) => { io.stderr(`train: eval at step ${e.step}: val_loss ${e.valLoss.toFixed(4)} val_accuracy ${e.valAccuracy.toFixed(4)}`); return 'continue'; },
    }, str('out') !== undefined);
    const out = str('out');
    if (out && result.weights) {
      const tokenizer = model.tokenizerFiles;
      await writeModelFolder(out, exportModelFolder(model.config, model.params, result.weights, tokenizer));
      io.stderr(`train: saved ${out}`);
    }
    const json = {
      status: result.status, failure_reason: result.failureReason ?? null, message: result.message ?? null,
      val_accuracy: result.valAccuracy, val_loss: result.valLoss, best_val_accuracy: result.bestValAccuracy,
      train_loss_first: result.trainLossFirst, train_loss_last: result.trainLossLast, steps: result.steps,
      samples_per_second: result.samplesPerSecond, micro_batch: result.microBatch, accumulation_steps: result.accumulation,
      precision: result.precision, loss_scale: result.lossScale, peak_gpu_bytes: result.peakGpuBytes, backoffs: result.backoffs,
      train_rows: data.train.count, val_rows: data.validation.count, evals: result.evals.map((e) => ({ step: e.step, val_loss: e.valLoss, val_accuracy: e.valAccuracy })),
      adapter: gpu.adapterInfo, seconds: (performance.now() - t0) / 1000,
    };
    // JSON has no NaN: a run that never evaluated reports null.
    io.stdout(JSON.stringify(json, (_k, val: unknown) => (typeof val === 'number' && !Number.isFinite(val) ? null : val)));
    gpu.device.destroy();
    return 0;
  } catch (e) {
    io.stderr(`train: ${(e as Error).message}`);
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) { io.stderr(USAGE); return 2; }
    return e instanceof DataError ? 2 : 1;
  }
}
