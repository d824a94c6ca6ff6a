// One fine-tuning run (a trial): plan memory, build the model on the device (backing off to smaller micro-batches on
// an out-of-memory error), train with periodic evaluation on the validation split, and end complete, pruned, stopped
// or failed with a reason. A failed run never throws for a reason a configuration or the device can cause.
import type { EncoderConfig } from '../model/config.ts';
import { EncoderClassifier, type Precision } from '../model/encoder.ts';
import type { ModelParams } from '../model/params.ts';
import { epochSteps, evalBatches, stepsPerEpoch, type SplitView } from './batches.ts';
import { planMemory, type MemoryPlan } from './memory.ts';
import { SkipTracker } from './precision.ts';
import { Trainer, type StepRecord } from './trainer.ts';

export type FailureReason = 'diverged' | 'out-of-memory' | 'device-lost' | 'invalid-config' | 'data' | 'error';

export interface TrialSettings {
  learningRate: number;
  batchSize: number;
  weightDecay: number;
  warmupRatio: number;
  epochs: number;
  maxGradNorm: number;
  adamBeta1: number;
  adamBeta2: number;
  adamEpsilon: number;
  seed: number;
  seqLen: number;
  /** Evaluations on the validation split per epoch (the last one ends the epoch). */
  evalsPerEpoch: number;
  /** Steps between metric readbacks (and divergence checks). */
  logEvery: number;
  memoryBudget?: number;
  /** Start the memory plan from this micro-batch (e.g. after an out-of-memory failure elsewhere). */
  microBatch?: number;
  /** Stop after this many optimizer steps (the schedule still spans the full run). */
  maxSteps?: number;
  /** fp32 (default) or fp16 mixed precision: 16-bit activations, fp32 master weights, dynamic loss scaling. */
  precision?: Precision;
}

export const DEFAULT_TRIAL: TrialSettings = {
  learningRate: 5e-5, batchSize: 16, weightDecay: 0.01, warmupRatio: 0.1, epochs: 1, maxGradNorm: 1,
  adamBeta1: 0.9, adamBeta2: 0.999, adamEpsilon: 1e-8, seed: 0, seqLen: 192, evalsPerEpoch: 2, logEvery: 10,
};

export interface EvalPoint {
  step: number;
  epoch: number;
  valLoss: number;
  valAccuracy: number;
}

export interface ProgressPoint {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  accuracy: number;
  lr: number;
  gradNorm: number;
  samplesPerSecond: number;
}

export interface TrialHooks {
  onPlan?(plan: MemoryPlan): void;
  onProgress?(points: ProgressPoint[]): void;
  /** Return 'prune' to end the trial as pruned. */
  onEval?(point: EvalPoint): 'continue' | 'prune' | Promise<'continue' | 'prune'>;
  /** Polled between steps: true ends the trial as stopped. */
  shouldStop?(): boolean;
}

export interface TrialResult {
  status: 'complete' | 'pruned' | 'stopped' | 'failed';
  failureReason?: FailureReason;
  message?: string;
  valAccuracy: number;
  valLoss: number;
  bestValAccuracy: number;
  trainLossFirst: number;
  trainLossLast: number;
  steps: number;
  samplesPerSecond: number;
  microBatch: number;
  accumulation: number;
  precision: Precision;
  /** The loss scale after the last step (1 in fp32). */
  lossScale: number;
  peakGpuBytes: number;
  backoffs: string[];
  evals: EvalPoint[];
  /** The trained weights (arena layout), when requested and the run did not fail. */
  weights?: Float32Array;
}

export interface TrialModel {
  config: EncoderConfig;
  params: ModelParams;
  arena: Float32Array;
}

/** A loss this far above the first loss (and above ln(classes) * 4) counts as an explosion. */
const EXPLOSION_FACTOR = 4;

function validate(s: TrialSettings, config: EncoderConfig): string | undefined {
  const checks: [boolean, string][] = [
    [s.learningRate > 0 && Number.isFinite(s.learningRate), `learning rate must be a positive number (got ${s.learningRate})`],
    [Number.isInteger(s.batchSize) && s.batchSize >= 1, `batch size must be a positive integer (got ${s.batchSize})`],
    [s.weightDecay >= 0, `weight decay must be >= 0 (got ${s.weightDecay})`],
    [s.warmupRatio >= 0 && s.warmupRatio < 1, `warmup ratio must be in [0, 1) (got ${s.warmupRatio})`],
    [Number.isInteger(s.epochs) && s.epochs >= 1, `epochs must be a positive integer (got ${s.epochs})`],
    [s.maxGradNorm > 0, `max grad norm must be > 0 (got ${s.maxGradNorm})`],
    [s.adamBeta1 >= 0 && s.adamBeta1 < 1 && s.adamBeta2 >= 0 && s.adamBeta2 < 1, 'Adam betas must be in [0, 1)'],
    [s.seqLen >= 3 && s.seqLen <= config.maxPositions, `sequence length ${s.seqLen} must be in [3, ${config.maxPositions}] (the model's max_position_embeddings)`],
  ];
  return checks.find(([ok]) => !ok)?.[1];
}

function emptyResult(status: TrialResult['status'], partial: Partial<TrialResult>): TrialResult {
  return {
    status, valAccuracy: NaN, valLoss: NaN, bestValAccuracy: NaN, trainLossFirst: NaN, trainLossLast: NaN, steps: 0,
    samplesPerSecond: 0, microBatch: 0, accumulation: 0, precision: 'fp32', lossScale: 1, peakGpuBytes: 0, backoffs: [], evals: [], ...partial,
  };
}

/** The device-lost info if the device is lost now or within `ms` (loss is reported asynchronously). */
async function lostWithin(device: GPUDevice, ms: number): Promise<GPUDeviceLostInfo | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), ms); });
  const info = await Promise.race([device.lost, timeout]);
  clearTimeout(timer);
  return info;
}

async function scoped<T>(device: GPUDevice, build: () => T): Promise<{ value?: T; error?: string }> {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let value: T | undefined;
  let thrown: string | undefined;
  try {
    value = build();
  } catch (e) {
    thrown = (e as Error).message;
  }
  const validation = await device.popErrorScope();
  const oom = await device.popErrorScope();
  if (oom) return { error: `out of memory: ${oom.message}`, ...(value !== undefined ? { value } : {}) };
  if (validation || thrown) return { error: validation?.message ?? thrown ?? 'unknown error', ...(value !== undefined ? { value } : {}) };
  return value !== undefined ? { value } : { error: 'no value' };
}

/**
 * Runs one trial. Never throws for a reason a configuration, the data or the device can cause: those end as a failed
 * result with a reason (a lost device: 'device-lost'; request a new device and run the trial again).
 */
export async function runTrial(device: GPUDevice, model: TrialModel, data: { train: SplitView; validation: SplitView }, settings: TrialSettings, hooks: TrialHooks = {}, keepWeights = false): Promise<TrialResult> {
  const precision = settings.precision ?? 'fp32';
  try {
    return { ...(await runTrialUnguarded(device, model, data, settings, hooks, keepWeights)), precision };
  } catch (e) {
    const lost = await lostWithin(device, 1000);
    if (lost) return emptyResult('failed', { failureReason: 'device-lost', message: lost.message || `device lost (${lost.reason})`, precision });
    return emptyResult('failed', { failureReason: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e), precision });
  }
}

async function runTrialUnguarded(device: GPUDevice, model: TrialModel, data: { train: SplitView; validation: SplitView }, settings: TrialSettings, hooks: TrialHooks, keepWeights: boolean): Promise<TrialResult> {
  const precision = settings.precision ?? 'fp32';
  if (precision !== 'fp32' && precision !== 'fp16') return emptyResult('failed', { failureReason: 'invalid-config', message: `precision must be fp32 or fp16 (got ${String(precision)})` });
  const invalid = validate(settings, model.config);
  if (invalid) return emptyResult('failed', { failureReason: 'invalid-config', message: invalid });
  if (data.train.count === 0 || data.validation.count === 0) return emptyResult('failed', { failureReason: 'data', message: 'the training or validation split is empty' });
  let lost: GPUDeviceLostInfo | undefined;
  void device.lost.then((info) => { lost = info; });

  // Plan, then build; an allocation failure halves the micro-batch (same effective batch) and tries again.
  let plan = planMemory(model.config, model.params, settings.batchSize, settings.seqLen, device.limits, settings.memoryBudget, settings.microBatch, precision);
  const backoffs = [...plan.backoffs];
  let encoder: EncoderClassifier | undefined;
  let trainer: Trainer | undefined;
  for (;;) {
    if (!plan.fits) return emptyResult('failed', { failureReason: 'out-of-memory', message: `does not fit even with micro-batch 1: ${plan.backoffs.at(-1) ?? ''}`, backoffs });
    const totalSteps = stepsPerEpoch(data.train.count, settings.batchSize) * settings.epochs;
    const micro = plan.micro;
    const built = await scoped(device, () => {
      const enc = new EncoderClassifier(device, model.config, model.params, { batch: micro, seqLen: settings.seqLen }, true, `trial/micro${micro}`, precision);
      const tr = new Trainer(enc, {
        lr: settings.learningRate, weightDecay: settings.weightDecay, beta1: settings.adamBeta1, beta2: settings.adamBeta2, eps: settings.adamEpsilon,
        maxGradNorm: settings.maxGradNorm, warmupSteps: Math.ceil(settings.warmupRatio * totalSteps), totalSteps,
      }, plan.accumulation, settings.seed);
      return { enc, tr };
    });
    if (!built.error && built.value) {
      encoder = built.value.enc;
      trainer = built.value.tr;
      break;
    }
    built.value?.tr.destroy();
    built.value?.enc.destroy();
    if (lost) return emptyResult('failed', { failureReason: 'device-lost', message: lost.message, backoffs });
    if (micro === 1) return emptyResult('failed', { failureReason: 'out-of-memory', message: built.error ?? 'allocation failed', backoffs });
    backoffs.push(`micro-batch ${micro}: ${built.error ?? 'allocation failed'}`);
    plan = planMemory(model.config, model.params, settings.batchSize, settings.seqLen, device.limits, settings.memoryBudget, Math.ceil(micro / 2), precision);
    backoffs.push(...plan.backoffs);
  }
  hooks.onPlan?.(plan);
  const peakGpuBytes = plan.bytes.total;
  try {
    trainer.setWeights(model.arena);
    return await trainLoop(trainer, encoder, data, settings, hooks, plan, backoffs, peakGpuBytes, () => lost, keepWeights);
  } finally {
    trainer.destroy();
    encoder.destroy();
  }
}

async function trainLoop(trainer: Trainer, encoder: EncoderClassifier, data: { train: SplitView; validation: SplitView }, s: TrialSettings, hooks: TrialHooks, plan: MemoryPlan, backoffs: string[], peakGpuBytes: number, lost: () => GPUDeviceLostInfo | undefined, keepWeights: boolean): Promise<TrialResult> {
  const perEpoch = stepsPerEpoch(data.train.count, s.batchSize);
  const totalSteps = perEpoch * s.epochs;
  const lastStep = Math.min(totalSteps, s.maxSteps ?? totalSteps);
  const evalAt = new Set<number>();
  for (let e = 0; e < s.epochs; e++) for (let k = 1; k <= s.evalsPerEpoch; k++) evalAt.add(e * perEpoch + Math.max(1, Math.round((k * perEpoch) / s.evalsPerEpoch)));
  evalAt.add(lastStep);
  const valBatches = evalBatches(data.validation, plan.micro, s.seqLen);
  const evals: EvalPoint[] = [];
  const losses: number[] = [];
  let trainSeconds = 0, trainSamples = 0, step = 0;
  let status: TrialResult['status'] = 'complete';
  let failure: { reason: FailureReason; message: string } | undefined;
  let windowStart = performance.now(), windowSamples = 0;
  const fp16 = (s.precision ?? 'fp32') === 'fp16';
  const skips = new SkipTracker();
  let lossScale = trainer.lossScaling.init;

  /** Reads the metrics ring; returns the divergence found in it, if any. */
  const collect = async (): Promise<{ reason: FailureReason; message: string } | undefined> => {
    let found: { reason: FailureReason; message: string } | undefined;
    const records: StepRecord[] = await trainer.collect();
    const elapsed = (performance.now() - windowStart) / 1000;
    trainSeconds += elapsed;
    trainSamples += windowSamples;
    const sps = elapsed > 0 ? windowSamples / elapsed : 0;
    windowStart = performance.now();
    windowSamples = 0;
    for (const r of records) {
      lossScale = r.skipped ? r.lossScale * trainer.lossScaling.backoffFactor : r.lossScale;
      if (found) continue;
      if (fp16) {
        // fp16: a skipped step is GradScaler's normal answer to an overflow; only persistent skips are divergence.
        const persistent = skips.push(r.step, r.skipped || !Number.isFinite(r.loss), r.lossScale);
        if (persistent) { found = { reason: 'diverged', message: persistent }; continue; }
        if (r.skipped || !Number.isFinite(r.loss)) continue;
      } else if (r.skipped || !Number.isFinite(r.loss)) {
        // fp32: any non-finite gradient or loss is divergence (the GPU already skipped that update).
        found = { reason: 'diverged', message: `step ${r.step + 1}: non-finite ${r.skipped ? `gradient norm (${r.gradNorm})` : `loss (${r.loss})`}` };
        continue;
      }
      losses.push(r.loss);
      if (losses.length > 1 && r.loss > EXPLOSION_FACTOR * Math.max(losses[0]!, Math.log(encoder.config.numLabels))) {
        found = { reason: 'diverged', message: `step ${r.step + 1}: loss ${r.loss.toFixed(3)} exploded above ${EXPLOSION_FACTOR}x its start ${losses[0]!.toFixed(3)}` };
      }
    }
    hooks.onProgress?.(records.map((r) => ({ step: r.step + 1, totalSteps: lastStep, epoch: Math.floor(r.step / perEpoch), loss: r.loss, accuracy: r.accuracy, lr: r.lr, gradNorm: r.gradNorm, samplesPerSecond: sps })));
    return found;
  };

  outer: for (let epoch = 0; epoch < s.epochs; epoch++) {
    const steps = epochSteps(data.train, s.batchSize, plan.micro, s.seqLen, s.seed, epoch);
    for (const micros of steps) {
      if (step >= lastStep) break outer;
      if (hooks.shouldStop?.()) { status = 'stopped'; break outer; }
      await trainer.step(micros);
      windowSamples += micros.reduce((n, b) => n + b.labels.filter((l) => l !== 0xffffffff).length, 0);
      step++;
      const lostInfo = lost();
      if (lostInfo) return emptyResult('failed', { failureReason: 'device-lost', message: lostInfo.message || `device lost (${lostInfo.reason})`, steps: step, backoffs, microBatch: plan.micro, accumulation: plan.accumulation, peakGpuBytes });
      // Early steps are read at 1, 2, 4, ... so an explosion at the start ends the trial within a few steps.
      if (step % s.logEvery === 0 || evalAt.has(step) || (step < s.logEvery && (step & (step - 1)) === 0)) {
        failure = await collect();
        if (failure) break outer;
      }
      if (evalAt.has(step)) {
        const r = await trainer.evaluate(valBatches);
        windowStart = performance.now(); // evaluation time is not training throughput
        const point = { step, epoch, valLoss: r.loss, valAccuracy: r.accuracy };
        evals.push(point);
        if ((await hooks.onEval?.(point)) === 'prune') { status = 'pruned'; break outer; }
      }
    }
  }
  failure ??= await collect();
  if (failure) status = 'failed';
  const last = evals.at(-1);
  return {
    status, ...(failure ? { failureReason: failure.reason, message: failure.message } : {}),
    valAccuracy: last?.valAccuracy ?? NaN, valLoss: last?.valLoss ?? NaN,
    bestValAccuracy: evals.reduce((m, e) => Math.max(m, e.valAccuracy), -Infinity),
    trainLossFirst: losses[0] ?? NaN, trainLossLast: losses.at(-1) ?? NaN, steps: step,
    samplesPerSecond: trainSeconds > 0 ? trainSamples / trainSeconds : 0,
    microBatch: plan.micro, accumulation: plan.accumulation, precision: s.precision ?? 'fp32', lossScale, peakGpuBytes, backoffs, evals,
    ...(keepWeights && status !== 'failed' ? { weights: await trainer.readArena('params') } : {}),
  };
}
