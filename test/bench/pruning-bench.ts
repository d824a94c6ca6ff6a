// Pruning benchmark: the same study (model, data, space, sampler seed, budget) run without pruning and with each
// pruner; prints the optimizer steps trained, the steps saved by pruning, the best validation accuracy and the time.
//
// usage: node --import ./test/helpers/register.mjs test/bench/pruning-bench.ts [--trials 8] [--pruners none,median,asha]
//   [--model DIR (default: a random-init model of --dim/--layers/--heads/--ffn)] [--dim 32] [--layers 1] [--heads 2]
//   [--ffn 64] [--data ../shared/data/imdb] [--train-limit 128] [--val-limit 64] [--max-len 64] [--epochs 2]
//   [--evals-per-epoch 2] [--sampler tpe|random] [--startup-trials 4] [--seed 0] [--space FILE]
// WebGPU comes from dawn.node (TUNELAB_SWIFTSHADER=1 for SwiftShader; slow: keep the sizes small there).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NodeDataFileSystem, NodeShardStore, readTokenizerFiles } from '../../src/cli/node-files.ts';
import { openNodeDevice } from '../../src/cli/node-gpu.ts';
import { readModelFolder, standardTokenizerFiles, writeModelFolder } from '../../src/cli/node-model.ts';
import { LocalTrialExecutor } from '../../src/coord/executor.ts';
import { MemoryTrialSummaryStore, openStudy, StudyRunner } from '../../src/coord/study-runner.ts';
import { prepareDataset } from '../../src/data/prepare.ts';
import type { EncoderConfig } from '../../src/engine/model/config.ts';
import { exportModelFolder, initModel, loadModelFolder } from '../../src/engine/model/folder.ts';
import { DEFAULT_TRIAL } from '../../src/engine/train/run.ts';
import { MemoryStudyStore, type PrunerConfig } from '../../src/search/study.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const num = (name: string, fallback: number): number => Number(arg(name, String(fallback)));

const trials = num('trials', 8);
const pruners = arg('pruners', 'none,median,asha').split(',');
const seed = num('seed', 0);
const maxLen = num('max-len', 64);
const repo = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = resolve(repo, arg('data', '../shared/data/imdb'));
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-pruning-'));
process.env.TUNELAB_SWIFTSHADER ??= '1';

let modelDir = arg('model', '');
if (!modelDir) {
  modelDir = join(tmp, 'model');
  const tokenizer = await standardTokenizerFiles();
  const config: EncoderConfig = {
    arch: 'distilbert', vocabSize: 30522, hidden: num('dim', 32), heads: num('heads', 2), layers: num('layers', 1), ffn: num('ffn', 64), maxPositions: 512,
    typeVocab: 0, layerNormEps: 1e-12, hiddenDropout: 0.1, attentionDropout: 0.1, classifierDropout: 0.2, numLabels: 2, initializerRange: 0.02, padTokenId: 0,
  };
  const { params, arena } = initModel(config, seed);
  await writeModelFolder(modelDir, exportModelFolder(config, params, arena, tokenizer));
}
const model = loadModelFolder(await readModelFolder(modelDir), seed);
const data = await prepareDataset({
  fs: new NodeDataFileSystem(), source: dataDir, tokenizerFiles: await readTokenizerFiles(modelDir), maxLen, seed,
  trainLimit: num('train-limit', 128), valLimit: num('val-limit', 64), store: new NodeShardStore(join(tmp, 'cache')),
});
const gpu = await openNodeDevice();
const spaceFile = arg('space', '');
const space = spaceFile ? (JSON.parse(readFileSync(spaceFile, 'utf8')) as Record<string, unknown>) : {
  learning_rate: { type: 'loguniform', low: 1e-5, high: 1e-1 }, batch_size: { type: 'categorical', choices: [8, 16] }, weight_decay: { type: 'loguniform', low: 1e-6, high: 1e-2 },
};
const base = { ...DEFAULT_TRIAL, seed, seqLen: maxLen, epochs: num('epochs', 2), evalsPerEpoch: num('evals-per-epoch', 2) };
const sampler = arg('sampler', 'tpe') === 'random' ? { kind: 'random' as const, seed } : { kind: 'tpe' as const, seed, nStartupJobs: num('startup-trials', 4) };
const prunerConfigs: Record<string, PrunerConfig> = { none: { kind: 'none' }, median: { kind: 'median', nStartupTrials: 3, nWarmupSteps: 1 }, asha: { kind: 'asha', minResource: 1, reductionFactor: 3 } };

console.log(`pruning benchmark: ${trials} trials, sampler ${JSON.stringify(sampler)}, model ${model.config.arch} dim ${model.config.hidden} layers ${model.config.layers} heads ${model.config.heads} ffn ${model.config.ffn}`);
console.log(`data: IMDB ${data.train.count} train / ${data.validation.count} validation rows, max-len ${maxLen}, epochs ${base.epochs}, ${base.evalsPerEpoch} evaluations per epoch; adapter ${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture}`);
console.log(`space: ${JSON.stringify(space)}`);
console.log(`${'pruner'.padEnd(8)} ${'complete'.padStart(8)} ${'pruned'.padStart(7)} ${'failed'.padStart(7)} ${'steps'.padStart(7)} ${'full'.padStart(7)} ${'saved'.padStart(7)} ${'best acc'.padStart(9)} ${'seconds'.padStart(8)}`);
for (const name of pruners) {
  const pruner = prunerConfigs[name];
  if (!pruner) throw new Error(`--pruners: unknown pruner "${name}" (none, median, asha)`);
  const t0 = performance.now();
  const opened = await openStudy({ store: new MemoryStudyStore(), resume: false, create: { name: `bench-${name}`, space, sampler, pruner, budget: { maxTrials: trials } } });
  const summaries = new MemoryTrialSummaryStore();
  const outcome = await new StudyRunner({ opened, executors: [new LocalTrialExecutor('gpu0', gpu.device, model, data)], baseSettings: base, summaries }).run();
  const all = await summaries.load();
  const steps = all.reduce((n, s) => n + s.steps, 0);
  const full = all.reduce((n, s) => n + (s.status === 'pruned' ? s.totalSteps : s.steps), 0);
  const count = (st: string): number => outcome.state.trials.filter((t) => t.state === st).length;
  console.log(`${name.padEnd(8)} ${String(count('complete')).padStart(8)} ${String(count('pruned')).padStart(7)} ${String(count('failed')).padStart(7)} ${String(steps).padStart(7)} ${String(full).padStart(7)} ${`${(100 * (1 - steps / Math.max(1, full))).toFixed(0)}%`.padStart(7)} ${(outcome.best?.value ?? NaN).toFixed(4).padStart(9)} ${((performance.now() - t0) / 1000).toFixed(0).padStart(8)}`);
}
gpu.device.destroy();
rmSync(tmp, { recursive: true, force: true });
