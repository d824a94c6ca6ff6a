// The study runner without a GPU: a synthetic-objective TrialExecutor (a real implementation of the interface,
// like the TPE benchmark functions) drives concurrency, failures as data, pruning, stop/resume and best-weights
// keeping. The GPU path is covered by tune-study.test.ts and tune-resume.test.ts.
import { describe, expect, it } from 'vitest';
import type { TrialCallbacks, TrialExecutor, TrialRunRequest } from '../../src/coord/executor.ts';
import { mapTrialParams, TrialParamsError } from '../../src/coord/params.ts';
import { MemoryTrialSummaryStore, openStudy, StudyExistsError, StudyRunner, type BestWeightsStore, type KeptWeights, type StudyObserver } from '../../src/coord/study-runner.ts';
import { DEFAULT_TRIAL, type TrialResult } from '../../src/engine/train/run.ts';
import { MemoryStudyStore, Study } from '../../src/search/study.ts';

const SPACE = { learning_rate: { type: 'loguniform', low: 1e-5, high: 1e-2 }, batch_size: { type: 'categorical', choices: [8, 16] } };

function result(status: TrialResult['status'], extra: Partial<TrialResult> = {}): TrialResult {
  return {
    status, valAccuracy: NaN, valLoss: NaN, bestValAccuracy: NaN, trainLossFirst: NaN, trainLossLast: NaN, steps: 0, samplesPerSecond: 0,
    microBatch: 8, accumulation: 1, precision: 'fp32', lossScale: 1, peakGpuBytes: 0, backoffs: [], evals: [], ...extra,
  };
}

/** Accuracy peaks at lr = 1e-3; lr above 5e-3 "diverges"; trial `throwOn` makes the executor throw. */
class SyntheticExecutor implements TrialExecutor {
  active = 0;
  static maxActive = 0;
  static active = 0;
  constructor(readonly label: string, private readonly opts: { throwOn?: number; delayMs?: number; evals?: number } = {}) {}
  async run(req: TrialRunRequest, cb: TrialCallbacks, signal: AbortSignal): Promise<TrialResult> {
    SyntheticExecutor.active++;
    SyntheticExecutor.maxActive = Math.max(SyntheticExecutor.maxActive, SyntheticExecutor.active);
    try {
      if (req.trialId === this.opts.throwOn) throw new Error('worker crashed');
      const lr = req.settings.learningRate;
      const acc = 0.9 - 0.1 * Math.abs(Math.log10(lr) + 3);
      const evals = this.opts.evals ?? 3;
      const out: { step: number; epoch: number; valLoss: number; valAccuracy: number }[] = [];
      for (let k = 1; k <= evals; k++) {
        await new Promise((r) => setTimeout(r, this.opts.delayMs ?? 2));
        if (signal.aborted) return result('stopped', { steps: k * 10 - 10 });
        cb.onProgress([{ step: k * 10, totalSteps: evals * 10, epoch: 0, loss: 1 - acc, accuracy: acc, lr, gradNorm: 1, samplesPerSecond: 100 }]);
        if (lr > 5e-3) return result('failed', { failureReason: 'diverged', message: `step ${k * 10}: loss exploded`, steps: k * 10 });
        const point = { step: k * 10, epoch: 0, valLoss: 1 - acc, valAccuracy: acc * (k / evals) };
        out.push(point);
        if ((await cb.onEval(point)) === 'prune') return result('pruned', { steps: k * 10, evals: out, valAccuracy: point.valAccuracy, bestValAccuracy: point.valAccuracy });
      }
      return result('complete', { steps: evals * 10, evals: out, valAccuracy: acc, bestValAccuracy: acc, ...(req.keepWeights ? { weights: new Float32Array([lr]) } : {}) });
    } finally {
      SyntheticExecutor.active--;
    }
  }
}

class MemoryBestWeights implements BestWeightsStore {
  saves: KeptWeights[] = [];
  weights: Float32Array | undefined;
  kept(): Promise<KeptWeights | undefined> {
    return Promise.resolve(this.saves.at(-1));
  }
  save(trial: KeptWeights, weights: Float32Array): Promise<void> {
    this.saves.push({ trialId: trial.trialId, value: trial.value });
    this.weights = weights;
    return Promise.resolve();
  }
}

describe('mapTrialParams', () => {
  it('maps search names to TrialSettings and dropout to the model config; rejects unknown names', () => {
    const m = mapTrialParams({ learning_rate: 3e-4, batch_size: 16.000000000000004, weight_decay: 0.01, epochs: 2, dropout: 0.2, attention_dropout: 0.05, seed: 7 }, DEFAULT_TRIAL);
    expect(m.settings).toMatchObject({ learningRate: 3e-4, batchSize: 16, weightDecay: 0.01, epochs: 2, seed: 7, seqLen: DEFAULT_TRIAL.seqLen });
    expect(m.modelOverrides).toEqual({ hiddenDropout: 0.2, attentionDropout: 0.05 });
    expect(() => mapTrialParams({ momentum: 0.9 }, DEFAULT_TRIAL)).toThrow(TrialParamsError);
    expect(() => mapTrialParams({ learning_rate: 'fast' }, DEFAULT_TRIAL)).toThrow(/learning_rate.*finite number/);
  });
});

describe('StudyRunner', () => {
  it('runs N executors concurrently, records failures as data, persists every change and keeps only the best weights', async () => {
    const store = new MemoryStudyStore();
    let saves = 0;
    const counting = { load: () => store.load(), save: (s: Parameters<MemoryStudyStore['save']>[0]) => { saves++; return store.save(s); } };
    const opened = await openStudy({ store: counting, resume: false, create: { name: 'synthetic', space: SPACE, sampler: { kind: 'tpe', seed: 3, nStartupJobs: 4 }, pruner: { kind: 'none' }, budget: { maxTrials: 10 } }, enqueue: [{ learning_rate: 9e-3, batch_size: 8 }] });
    const events: string[] = [];
    const observer: StudyObserver = {
      trialStarted: (e) => events.push(`start ${e.trialId}`),
      trialEnded: (e) => events.push(`end ${e.trialId} ${e.summary.status}`),
      studyEnded: (e) => events.push(`study ${e.reason}`),
    };
    const throwing: StudyObserver = { trialEval: () => { throw new Error('observer bug'); } };
    const observerErrors: string[] = [];
    const summaries = new MemoryTrialSummaryStore();
    const weights = new MemoryBestWeights();
    SyntheticExecutor.maxActive = 0;
    const runner = new StudyRunner({
      opened, executors: [new SyntheticExecutor('a', { throwOn: 2 }), new SyntheticExecutor('b')], baseSettings: DEFAULT_TRIAL,
      observers: [observer, throwing], summaries, bestWeights: weights, onObserverError: (e) => observerErrors.push((e as Error).message),
    });
    const outcome = await runner.run();
    expect(outcome.reason).toBe('budget');
    expect(SyntheticExecutor.maxActive).toBe(2);
    const trials = outcome.state.trials;
    expect(trials.map((t) => t.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // the enqueued lr 9e-3 diverges; trial 2's executor threw: both are failures with reasons, the study went on
    expect(trials[0]).toMatchObject({ state: 'failed', source: 'enqueued', failure: { reason: 'diverged' } });
    expect(trials[2]).toMatchObject({ state: 'failed', failure: { reason: 'error' } });
    expect(trials[2]!.failure!.message).toMatch(/worker crashed/);
    expect(trials.filter((t) => t.state === 'complete').length).toBeGreaterThanOrEqual(7);
    expect(observerErrors.length).toBeGreaterThan(0);
    // persisted: the store holds the final state, and there was a save per change
    expect(await store.load()).toEqual(outcome.state);
    expect(saves).toBeGreaterThan(30);
    // events: every trial started before it ended; the study ended last
    for (const t of trials) expect(events.indexOf(`start ${t.id}`)).toBeLessThan(events.findIndex((e) => e.startsWith(`end ${t.id} `)));
    expect(events.at(-1)).toBe('study budget');
    // summaries for every told trial; weights kept for the best one, saves in increasing value
    expect((await summaries.load()).map((s) => s.trialId)).toEqual(trials.map((t) => t.id));
    expect(weights.saves.at(-1)!.trialId).toBe(outcome.best!.id);
    for (let i = 1; i < weights.saves.length; i++) expect(weights.saves[i]!.value).toBeGreaterThan(weights.saves[i - 1]!.value);
    expect(weights.weights![0]).toBeCloseTo(outcome.best!.params.learning_rate as number, 6);
  });

  it('prunes on the pruner\'s advice and fails a trial with unknown parameters as invalid-config', async () => {
    const space = { ...SPACE, momentum: { type: 'uniform', low: 0, high: 1 } };
    const opened = await openStudy({ store: new MemoryStudyStore(), resume: false, create: { name: 'p', space, allowUnknownParameters: true, sampler: { kind: 'random', seed: 1 }, pruner: { kind: 'none' }, budget: { maxTrials: 1 } } });
    const r1 = await new StudyRunner({ opened, executors: [new SyntheticExecutor('a')], baseSettings: DEFAULT_TRIAL }).run();
    expect(r1.state.trials[0]).toMatchObject({ state: 'failed', failure: { reason: 'invalid-config' } });
    expect(r1.state.trials[0]!.failure!.message).toMatch(/momentum/);

    const opened2 = await openStudy({ store: new MemoryStudyStore(), resume: false, create: { name: 'asha', space: SPACE, sampler: { kind: 'random', seed: 5 }, pruner: { kind: 'asha', minResource: 1, reductionFactor: 3 }, budget: { maxTrials: 8 } } });
    const summaries = new MemoryTrialSummaryStore();
    const r2 = await new StudyRunner({ opened: opened2, executors: [new SyntheticExecutor('a', { evals: 4 })], baseSettings: DEFAULT_TRIAL, summaries }).run();
    const pruned = r2.state.trials.filter((t) => t.state === 'pruned');
    expect(pruned.length).toBeGreaterThan(0);
    for (const t of pruned) {
      const s = summaries.summaries.get(t.id)!;
      expect(s.status).toBe('pruned');
      expect(s.steps).toBeLessThan(40);
      expect(t.intermediate.length).toBeLessThan(4); // pruner steps are evaluation numbers 1, 2, ...
      expect(t.intermediate.map((iv) => iv.step)).toEqual(t.intermediate.map((_, i) => i + 1));
    }
  });

  it('stop() leaves the running trial unfinished; a resume re-runs it with the same id and params, and nothing finished runs twice', async () => {
    const store = new MemoryStudyStore();
    const create = { name: 'stop', space: { ...SPACE, learning_rate: { type: 'loguniform', low: 1e-5, high: 4e-3 } }, sampler: { kind: 'tpe' as const, seed: 9 }, pruner: { kind: 'none' as const }, budget: { maxTrials: 4 } };
    const opened = await openStudy({ store, resume: false, create });
    const holder: { runner?: StudyRunner } = {};
    const stopper: StudyObserver = { trialEval: (e) => { if (e.trialId === 2 && e.evalIndex === 1) holder.runner!.stop(); } };
    const runner = holder.runner = new StudyRunner({ opened, executors: [new SyntheticExecutor('a', { delayMs: 5 })], baseSettings: DEFAULT_TRIAL, observers: [stopper] });
    const first = await runner.run();
    expect(first.reason).toBe('stopped');
    expect(first.state.trials.map((t) => t.state)).toEqual(['complete', 'complete', 'running']);
    const before = first.state.trials.slice(0, 2);
    await expect(openStudy({ store, resume: false, create })).rejects.toThrow(StudyExistsError);
    const reopened = await openStudy({ store, resume: true, create });
    expect(reopened.resumed).toBe(true);
    expect(reopened.study.trials[2]!.state).toBe('pending');
    const started: number[] = [];
    const second = await new StudyRunner({ opened: reopened, executors: [new SyntheticExecutor('a')], baseSettings: DEFAULT_TRIAL, observers: [{ trialStarted: (e) => started.push(e.trialId) }] }).run();
    expect(started).toEqual([2, 3]);
    expect(second.state.trials.map((t) => t.id)).toEqual([0, 1, 2, 3]);
    expect(second.state.trials.slice(0, 2)).toEqual(before);
    expect(second.state.trials[2]!.params).toEqual(first.state.trials[2]!.params);
    expect(second.state.trials[2]!.attempts).toBe(2);
    expect(Study.fromJSON(await store.load()).trials.every((t) => t.state === 'complete')).toBe(true);
  });
});
