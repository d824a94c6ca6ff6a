// The trainer worker: one GPUDevice per worker, opened here with requestEngineDevice, and the engine behind a typed
// comlink API. The page wraps each worker in a TrialExecutor (src/app/worker-executor.ts). Progress goes back through
// comlink.proxy callbacks; an abort crosses as stop(trialId) because AbortSignal cannot be cloned. Failures a user can
// cause come back as values with a message in words (comlink would keep only an Error's message anyway).
//
// Page usage:
//   const w = wrap<TrainerWorkerApi>(new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), { type: 'module' }));
//   const gpu = await w.open();                       // GpuOpenOutcome: adapter, limits, features, or a reason in words
//   await w.load({ files, source }, { train, validation, test });   // the model folder bytes and the tokenized splits
//   const result = await w.run(request, proxy(callbacks));          // TrialResult (weights when request.keepWeights)
//   await w.stop(trialId);                                          // ends that trial as 'stopped'
//   await w.setFinal(weights); await w.evaluateTest(seqLen, batch); await w.predict(['great film'], seqLen);
//   await w.exportFolder();                                         // HF folder files of the final weights
import { expose, transfer, type Remote } from 'comlink';
import { LocalTrialExecutor, type TrialCallbacks, type TrialRunRequest } from '../src/coord/executor.ts';
import { evaluateSplit, type SplitEvaluation } from '../src/coord/final-model.ts';
import { TextTokenizer } from '../src/data/tokenize.ts';
import { requestEngineDevice, type EngineDevice } from '../src/engine/device.ts';
import { EncoderClassifier } from '../src/engine/model/encoder.ts';
import { exportModelFolder, loadModelFolder, type LoadedModel } from '../src/engine/model/folder.ts';
import type { SplitView } from '../src/engine/train/batches.ts';
import { gatherBatch } from '../src/engine/train/batches.ts';
import type { TrialResult } from '../src/engine/train/run.ts';
import { Trainer } from '../src/engine/train/trainer.ts';

/** Device limits shown on the page (bytes or counts, as WebGPU reports them). */
export const SHOWN_LIMITS = ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage'] as const;

export interface GpuReport {
  adapter: { vendor: string; architecture: string; device: string; description: string };
  limits: Record<(typeof SHOWN_LIMITS)[number], number>;
  features: string[];
}

export type GpuOpenOutcome = { ok: true; gpu: GpuReport } | { ok: false; reason: 'no-webgpu' | 'device'; message: string };

export interface ModelSummary {
  arch: string;
  layers: number;
  hidden: number;
  heads: number;
  vocabSize: number;
  maxPositions: number;
  /** Number of trainable parameters. */
  parameters: number;
  /** Tensors that were not in model.safetensors and were initialised (e.g. the classifier head of a base model). */
  initialized: string[];
}

export type LoadOutcome = { ok: true; model: ModelSummary } | { ok: false; message: string };

export interface TrainerData {
  train: SplitView;
  validation: SplitView;
  test?: SplitView;
}

export interface Prediction {
  /** 1 = positive. */
  label: 0 | 1;
  /** Softmax probability of the positive class. */
  positive: number;
  /** Tokens the model saw (with [CLS] and [SEP]); the review is cut at the sequence length. */
  tokens: number;
}

export interface TrainerWorkerApi {
  open(): Promise<GpuOpenOutcome>;
  /** The model folder (file name -> bytes) and the data every trial of this study uses. */
  load(model: { files: Map<string, Uint8Array>; source: string; seed: number }, data: TrainerData): Promise<LoadOutcome>;
  /** One trial; callbacks is a comlink.proxy of TrialCallbacks. */
  run(request: TrialRunRequest, callbacks: TrialCallbacks): Promise<TrialResult>;
  stop(trialId: number): void;
  /** Weights (arena layout) of the final model; evaluateTest, predict and exportFolder use them. */
  setFinal(weights: Float32Array): void;
  evaluateTest(seqLen: number, batch: number): Promise<SplitEvaluation | { error: string }>;
  predict(texts: string[], seqLen: number): Promise<Prediction[] | { error: string }>;
  exportFolder(): Promise<Map<string, Uint8Array> | { error: string }>;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function createTrainerWorkerApi(gpu: GPU | undefined): TrainerWorkerApi {
  let engine: EngineDevice | undefined;
  let model: LoadedModel | undefined;
  let data: TrainerData | undefined;
  let executor: LocalTrialExecutor | undefined;
  let finalWeights: Float32Array | undefined;
  let tokenizer: TextTokenizer | undefined;
  const aborts = new Map<number, AbortController>();

  const ready = (): { engine: EngineDevice; model: LoadedModel; data: TrainerData; executor: LocalTrialExecutor } => {
    if (!engine || !model || !data || !executor) throw new Error('the trainer worker has no GPU device, model or data yet (call open and load first)');
    return { engine, model, data, executor };
  };

  return {
    async open() {
      if (engine) return { ok: true, gpu: report(engine) };
      try {
        engine = await requestEngineDevice(gpu);
      } catch (e) {
        return { ok: false, reason: e instanceof Error && e.name === 'NoWebGPUError' ? 'no-webgpu' : 'device', message: message(e) };
      }
      return { ok: true, gpu: report(engine) };
    },

    load(folder, splits) {
      if (!engine) return Promise.resolve({ ok: false, message: 'no GPU device: open() first' });
      try {
        model = loadModelFolder({ files: folder.files, source: folder.source }, folder.seed);
      } catch (e) {
        return Promise.resolve({ ok: false, message: message(e) });
      }
      data = splits;
      tokenizer = undefined;
      finalWeights = undefined;
      executor = new LocalTrialExecutor(`worker (${engine.adapterInfo.description || engine.adapterInfo.vendor || 'GPU'})`, engine.device, model, splits);
      const c = model.config;
      return Promise.resolve({
        ok: true,
        model: { arch: c.arch, layers: c.layers, hidden: c.hidden, heads: c.heads, vocabSize: c.vocabSize, maxPositions: c.maxPositions, parameters: model.arena.length, initialized: model.initialized },
      });
    },

    async run(request, callbacks) {
      const { executor: ex } = ready();
      const controller = new AbortController();
      aborts.set(request.trialId, controller);
      // Remote callbacks return promises; a page that went away must not fail the trial.
      const remote = callbacks as unknown as Remote<TrialCallbacks>;
      try {
        const result = await ex.run(request, {
          onPlan: (plan) => { remote.onPlan(plan).catch(() => undefined); },
          onProgress: (points) => { remote.onProgress(points).catch(() => undefined); },
          onEval: async (point) => {
            try {
              return await remote.onEval(point);
            } catch {
              return 'continue';
            }
          },
        }, controller.signal);
        return result.weights ? transfer(result, [result.weights.buffer as ArrayBuffer]) : result;
      } finally {
        aborts.delete(request.trialId);
      }
    },

    stop(trialId) {
      aborts.get(trialId)?.abort();
    },

    setFinal(weights) {
      finalWeights = weights;
    },

    async evaluateTest(seqLen, batch) {
      try {
        const r = ready();
        if (!finalWeights) return { error: 'no final weights yet' };
        if (!r.data.test || r.data.test.count === 0) return { error: 'this dataset has no test split' };
        return await evaluateSplit(r.engine.device, r.model.config, r.model.params, finalWeights, r.data.test, Math.min(seqLen, r.data.test.maxLen), batch);
      } catch (e) {
        return { error: message(e) };
      }
    },

    async predict(texts, seqLen) {
      try {
        const r = ready();
        if (!finalWeights) return { error: 'no final weights yet' };
        const json = r.model.tokenizerFiles.get('tokenizer.json');
        if (!json) return { error: 'the model folder has no tokenizer.json' };
        const cfg = r.model.tokenizerFiles.get('tokenizer_config.json');
        const dec = new TextDecoder();
        tokenizer ??= TextTokenizer.fromFiles({ tokenizerJson: dec.decode(json), ...(cfg ? { tokenizerConfigJson: dec.decode(cfg) } : {}) });
        const len = Math.max(3, Math.min(seqLen, r.model.config.maxPositions));
        const enc = tokenizer.encodeAll(texts, len);
        const split: SplitView = { ids: enc.ids, lengths: enc.lengths, labels: new Uint8Array(texts.length), count: texts.length, maxLen: len };
        const encoder = new EncoderClassifier(r.engine.device, r.model.config, r.model.params, { batch: texts.length, seqLen: len }, false, 'final/predict');
        const trainer = new Trainer(encoder, { lr: 0, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 0, totalSteps: 1 }, 1, 0);
        try {
          trainer.setWeights(finalWeights);
          const logits = await trainer.predict(gatherBatch(split, texts.map((_, i) => i), texts.length, len));
          const k = r.model.config.numLabels;
          return texts.map((_, i) => {
            const a = logits[i * k] ?? 0, b = logits[i * k + 1] ?? 0;
            const positive = 1 / (1 + Math.exp(a - b));
            return { label: positive >= 0.5 ? 1 : 0, positive, tokens: enc.lengths[i] ?? 0 };
          });
        } finally {
          trainer.destroy();
          encoder.destroy();
        }
      } catch (e) {
        return { error: message(e) };
      }
    },

    exportFolder() {
      try {
        const r = ready();
        if (!finalWeights) return Promise.resolve({ error: 'no final weights yet' });
        return Promise.resolve(exportModelFolder(r.model.config, r.model.params, finalWeights, r.model.tokenizerFiles));
      } catch (e) {
        return Promise.resolve({ error: message(e) });
      }
    },
  };
}

function report(e: EngineDevice): GpuReport {
  const limits = Object.fromEntries(SHOWN_LIMITS.map((k) => [k, e.device.limits[k]])) as GpuReport['limits'];
  return { adapter: e.adapterInfo, limits, features: [...e.features].sort() };
}

// Expose only inside a worker, so tests can import the types and createTrainerWorkerApi in-process.
declare const WorkerGlobalScope: { new (): object } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) expose(createTrainerWorkerApi(navigator.gpu));
