// The study loop shared by `tunelab tune` and the page: ask -> run the trial on an executor -> report each
// evaluation (pruning when told) -> tell; budgets; failures as data; every state change persisted.
//
// Module map of src/coord (the peers/tabs part lives beside these files, owned separately):
//   study-runner.ts   openStudy (load-or-create a Study wired to a StudyStore: one atomic save per change),
//                     StudyRunner (N executors pulling trials concurrently from one Study; typed StudyObserver
//                     events; TrialSummary and best-weights persistence hooks). No I/O of its own.
//   executor.ts       TrialExecutor (run(request, callbacks, signal) -> TrialResult), TrialRunRequest,
//                     TrialCallbacks; LocalTrialExecutor (the engine in this thread: the CLI, or inside a worker).
//   params.ts         mapTrialParams: search parameters (learning_rate, batch_size, ...) -> TrialSettings plus
//                     model-config overrides (dropout, attention_dropout).
//   final-model.ts    what happens after the search: concatSplits (train + validation for --retrain),
//                     evaluateSplit (one evaluation pass of given weights, e.g. the test split).
//   mlflow-observer.ts MlflowObserver: StudyObserver -> StudyTracker (parent run per study, child per trial).
//
// Ordering guarantees (what makes a crash at any moment safe, with an atomic StudyStore):
//   - a trial is marked running (and that state saved) before its executor starts;
//   - its TrialSummary and, when it is the new best, its weights are saved before tell(); tell's state is saved
//     before the trial counts as ended (trialEnded) and before that executor asks for another trial;
//   - a stopped trial (stop(), wall-clock deadline) is not told: it stays running in the saved state, and loading
//     that state re-queues it (Study.fromJSON), so it runs again, same id and params, on resume.
import type { MemoryPlan } from '../engine/train/memory.ts';
import type { EvalPoint, FailureReason, ProgressPoint, TrialResult, TrialSettings } from '../engine/train/run.ts';
import type { Params } from '../search/space.ts';
import { Study, type CreateStudyOptions, type StudyState, type StudyStore, type TrialRecord } from '../search/study.ts';
import type { TrialExecutor, TrialRunRequest } from './executor.ts';
import { mapTrialParams, type ModelOverrides } from './params.ts';

// ---- opening a study --------------------------------------------------------------------------------------------

export interface OpenStudyOptions {
  readonly store: StudyStore;
  /** Used only when the store holds no study yet. */
  readonly create: CreateStudyOptions;
  /** Continue the stored study. Without it, a store that already holds a study is an error (nothing is overwritten). */
  readonly resume: boolean;
  /** Configurations to try first (only for a new study). */
  readonly enqueue?: readonly Params[];
  readonly now?: () => number;
}

export interface OpenedStudy {
  readonly study: Study;
  /** True when the study came from the store. */
  readonly resumed: boolean;
  /** Resolves once every change so far is saved; rejects if a save failed. */
  saved(): Promise<void>;
}

export class StudyExistsError extends Error {
  override name = 'StudyExistsError';
}

/** Loads (resume) or creates the study and wires every change to `store.save` (saves are issued in order). */
export async function openStudy(options: OpenStudyOptions): Promise<OpenedStudy> {
  let last: Promise<void> = Promise.resolve();
  let failure: Error | undefined;
  const onChange = (state: StudyState): void => {
    const p = options.store.save(state);
    p.catch((e: unknown) => { failure ??= e instanceof Error ? e : new Error(`saving the study failed: ${JSON.stringify(e)}`); });
    last = p;
  };
  const deps = { onChange, ...(options.now ? { now: options.now } : {}) };
  const stored = await options.store.load();
  let study: Study;
  if (stored !== undefined) {
    if (!options.resume) throw new StudyExistsError(`a study named "${stored.name}" with ${stored.trials.length} trials is already stored here: continue it with resume, or use another place`);
    study = Study.fromJSON(stored, deps);
    onChange(study.state); // the re-queue of trials found running is a change too
  } else {
    study = Study.create(options.create, deps);
    onChange(study.state);
    for (const params of options.enqueue ?? []) study.enqueue(params);
  }
  const saved = async (): Promise<void> => {
    await last.catch(() => undefined);
    if (failure !== undefined) throw failure;
  };
  await saved();
  return { study, resumed: stored !== undefined, saved };
}

// ---- trial summaries and kept weights ---------------------------------------------------------------------------

export type TrialOutcome = 'complete' | 'pruned' | 'failed' | 'stopped';

/** One evaluation on the validation split; `epoch` is fractional (steps / steps per epoch). */
export interface SummaryEval {
  readonly step: number;
  readonly epoch: number;
  readonly valLoss: number;
  readonly valAccuracy: number;
}

/** What a trial did, beyond the Study's record (kept for reports and the final JSON). Non-finite numbers are null. */
export interface TrialSummary {
  readonly trialId: number;
  readonly attempt: number;
  readonly params: Params;
  readonly status: TrialOutcome;
  readonly failureReason?: FailureReason;
  readonly message?: string;
  /** The study's value: final validation accuracy (complete), the last one (pruned). */
  readonly value: number | null;
  readonly bestValAccuracy: number | null;
  readonly valLoss: number | null;
  readonly steps: number;
  readonly totalSteps: number;
  readonly samplesPerSecond: number;
  readonly seconds: number;
  readonly microBatch: number;
  readonly accumulation: number;
  readonly backoffs: readonly string[];
  readonly evals: readonly SummaryEval[];
  /** Training loss by step (at most MAX_CURVE_POINTS points, evenly thinned). */
  readonly trainLoss: readonly { readonly step: number; readonly loss: number }[];
  readonly executor: string;
}

export interface TrialSummaryStore {
  load(): Promise<readonly TrialSummary[]>;
  /** Replaces the summary of that trial id; atomic. */
  save(summary: TrialSummary): Promise<void>;
}

export class MemoryTrialSummaryStore implements TrialSummaryStore {
  readonly summaries = new Map<number, TrialSummary>();
  load(): Promise<readonly TrialSummary[]> {
    return Promise.resolve([...this.summaries.values()].sort((a, b) => a.trialId - b.trialId));
  }
  save(summary: TrialSummary): Promise<void> {
    this.summaries.set(summary.trialId, summary);
    return Promise.resolve();
  }
}

export interface KeptWeights {
  readonly trialId: number;
  readonly value: number;
}

/** Keeps the best complete trial's weights (a folder on disk, IndexedDB in the page). */
export interface BestWeightsStore {
  kept(): Promise<KeptWeights | undefined>;
  save(trial: KeptWeights & { readonly settings: TrialSettings; readonly modelOverrides: ModelOverrides }, weights: Float32Array): Promise<void>;
}

export const MAX_CURVE_POINTS = 400;

// ---- events -----------------------------------------------------------------------------------------------------

export interface TrialStartedEvent {
  readonly trialId: number;
  readonly attempt: number;
  readonly params: Params;
  /** Undefined when the parameters could not be mapped (the trial fails as invalid-config at once). */
  readonly settings?: TrialSettings;
  readonly executor: string;
}

export interface TrialEndedEvent {
  readonly trialId: number;
  /** The Study's record after tell; undefined for a stopped trial (not told, it re-runs on resume). */
  readonly record?: TrialRecord;
  readonly summary: TrialSummary;
  /** The best complete trial after this one. */
  readonly best?: TrialRecord;
}

export type StudyEndReason = 'budget' | 'stopped' | 'error';

export interface StudyEndedEvent {
  readonly reason: StudyEndReason;
  readonly state: StudyState;
  readonly best?: TrialRecord;
  readonly error?: string;
}

/** Observers of a running study (progress UI, logs, MLflow). Every method is optional; a throwing observer is reported through onObserverError and never stops the study. */
export interface StudyObserver {
  studyStarted?(e: { readonly state: StudyState; readonly resumed: boolean }): void;
  trialStarted?(e: TrialStartedEvent): void;
  trialPlan?(e: { readonly trialId: number; readonly plan: MemoryPlan }): void;
  trialProgress?(e: { readonly trialId: number; readonly points: readonly ProgressPoint[] }): void;
  /** evalIndex: 1-based evaluation number, the step the pruner sees (comparable across batch sizes). */
  trialEval?(e: { readonly trialId: number; readonly point: EvalPoint; readonly evalIndex: number; readonly decision: 'continue' | 'prune' }): void;
  trialEnded?(e: TrialEndedEvent): void;
  studyEnded?(e: StudyEndedEvent): void;
}

// ---- the runner -------------------------------------------------------------------------------------------------

export interface StudyRunnerOptions {
  readonly opened: OpenedStudy;
  /** One concurrent trial per executor. */
  readonly executors: readonly TrialExecutor[];
  /** Settings for what the parameters leave open (sequence length, evaluations per epoch, default epochs, seed). */
  readonly baseSettings: TrialSettings;
  readonly observers?: readonly StudyObserver[];
  readonly summaries?: TrialSummaryStore;
  /** With it, executors return weights and the best complete trial's are kept as the study goes. */
  readonly bestWeights?: BestWeightsStore;
  /** Stop running trials when the wall-clock budget runs out (default true); otherwise they finish. */
  readonly stopAtDeadline?: boolean;
  readonly onObserverError?: (error: unknown, observer: string) => void;
  readonly now?: () => number;
}

export interface StudyOutcome {
  readonly reason: StudyEndReason;
  readonly state: StudyState;
  readonly best?: TrialRecord;
  readonly error?: string;
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function thin<T>(xs: readonly T[], max: number): T[] {
  if (xs.length <= max) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < max; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (max - 1))]!);
  return out;
}

export class StudyRunner {
  private readonly study: Study;
  private readonly running = new Map<number, AbortController>();
  private stopping = false;
  /** What this session saved as best (a told trial is also in study.best()). */
  private kept: KeptWeights | undefined;
  private keptChain: Promise<void> = Promise.resolve();
  private summaryChain: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private started = false;

  constructor(private readonly options: StudyRunnerOptions) {
    this.study = options.opened.study;
    this.now = options.now ?? Date.now;
    if (options.executors.length === 0) throw new Error('StudyRunner: at least one executor is needed');
  }

  /** Ends the study soon: no new trials, running ones are stopped (they re-run on resume). */
  stop(): void {
    this.stopping = true;
    for (const c of this.running.values()) c.abort();
  }

  get state(): StudyState {
    return this.study.state;
  }

  /** Runs trials on every executor until a budget is exhausted or stop() is called. Call once. */
  async run(): Promise<StudyOutcome> {
    if (this.started) throw new Error('StudyRunner.run: already started');
    this.started = true;
    const { opened } = this.options;
    this.emit('studyStarted', (o) => o.studyStarted?.({ state: this.study.state, resumed: opened.resumed }));
    const budget = this.study.state.budget;
    let deadlineStopped = false;
    const timer = budget.maxWallMinutes !== undefined && (this.options.stopAtDeadline ?? true)
      ? setInterval(() => {
        if (this.study.elapsedMs() >= (budget.maxWallMinutes ?? Infinity) * 60_000 && this.running.size > 0) {
          deadlineStopped = true;
          for (const c of this.running.values()) c.abort();
        }
      }, 1000)
      : undefined;
    let error: string | undefined;
    try {
      await Promise.all(this.options.executors.map((ex) => this.loop(ex)));
      await opened.saved();
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      this.stop();
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
    const reason: StudyEndReason = error !== undefined ? 'error' : this.stopping && !deadlineStopped ? 'stopped' : 'budget';
    const best = this.study.best();
    const outcome: StudyOutcome = { reason, state: this.study.state, ...(best ? { best } : {}), ...(error !== undefined ? { error } : {}) };
    this.emit('studyEnded', (o) => o.studyEnded?.(outcome));
    return outcome;
  }

  private async loop(ex: TrialExecutor): Promise<void> {
    while (!this.stopping) {
      const req = this.study.ask();
      if (req === undefined) return;
      await this.options.opened.saved();
      await this.runOne(ex, req.trialId, req.attempt, req.params);
    }
  }

  private async runOne(ex: TrialExecutor, trialId: number, attempt: number, params: Params): Promise<void> {
    const t0 = this.now();
    const controller = new AbortController();
    if (this.stopping) controller.abort();
    this.running.set(trialId, controller);
    const evals: SummaryEval[] = [];
    const losses: { step: number; loss: number }[] = [];
    let totalSteps = 0;
    let result: TrialResult;
    let settings: TrialSettings | undefined;
    let modelOverrides: ModelOverrides = {};
    try {
      const mapped = mapTrialParams(params, this.options.baseSettings);
      settings = mapped.settings;
      modelOverrides = mapped.modelOverrides;
    } catch (e) {
      result = failedResult('invalid-config', (e as Error).message);
    }
    this.emit('trialStarted', (o) => o.trialStarted?.({ trialId, attempt, params, ...(settings ? { settings } : {}), executor: ex.label }));
    if (settings !== undefined) {
      const request: TrialRunRequest = { trialId, attempt, params, settings, modelOverrides, keepWeights: this.options.bestWeights !== undefined };
      let evalIndex = 0;
      const perEpoch = (step: number, total: number): number => (total > 0 && settings ? (step / total) * settings.epochs : 0);
      try {
        result = await ex.run(request, {
          onPlan: (plan) => this.emit('trialPlan', (o) => o.trialPlan?.({ trialId, plan })),
          onProgress: (points) => {
            for (const p of points) {
              losses.push({ step: p.step, loss: p.loss });
              totalSteps = p.totalSteps;
            }
            this.emit('trialProgress', (o) => o.trialProgress?.({ trialId, points }));
          },
          onEval: (point) => {
            evalIndex++;
            evals.push({ step: point.step, epoch: perEpoch(point.step, totalSteps), valLoss: point.valLoss, valAccuracy: point.valAccuracy });
            let decision: 'continue' | 'prune' = 'continue';
            // A non-finite accuracy is divergence: the engine fails the trial; the pruner never sees NaN.
            if (Number.isFinite(point.valAccuracy) && !controller.signal.aborted) decision = this.study.reportIntermediate(trialId, evalIndex, point.valAccuracy);
            const idx = evalIndex;
            this.emit('trialEval', (o) => o.trialEval?.({ trialId, point, evalIndex: idx, decision }));
            return Promise.resolve(decision);
          },
        }, controller.signal);
      } catch (e) {
        result = failedResult('error', `executor ${ex.label}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    this.running.delete(trialId);
    result ??= failedResult('error', 'no result');
    await this.finish(ex, trialId, attempt, params, settings, modelOverrides, result, evals, losses, totalSteps, (this.now() - t0) / 1000);
  }

  private async finish(ex: TrialExecutor, trialId: number, attempt: number, params: Params, settings: TrialSettings | undefined, modelOverrides: ModelOverrides,
    result: TrialResult, evals: SummaryEval[], losses: { step: number; loss: number }[], totalSteps: number, seconds: number): Promise<void> {
    let status: TrialOutcome = result.status;
    let failureReason = result.failureReason;
    let message = result.message;
    if (status === 'complete' && !Number.isFinite(result.valAccuracy)) {
      status = 'failed';
      failureReason = 'error';
      message = `the trial ended without a validation accuracy (got ${result.valAccuracy})`;
    }
    if (status === 'failed') failureReason ??= 'error';
    const value = status === 'complete' ? result.valAccuracy : status === 'pruned' ? (evals.at(-1)?.valAccuracy ?? NaN) : NaN;
    const summary: TrialSummary = {
      trialId, attempt, params, status, ...(failureReason !== undefined && status === 'failed' ? { failureReason } : {}), ...(message !== undefined ? { message } : {}),
      value: finiteOrNull(value), bestValAccuracy: finiteOrNull(result.bestValAccuracy), valLoss: finiteOrNull(result.valLoss),
      steps: result.steps, totalSteps: totalSteps || result.steps, samplesPerSecond: result.samplesPerSecond, seconds,
      microBatch: result.microBatch, accumulation: result.accumulation, backoffs: result.backoffs,
      evals: evals.map((e) => ({ ...e, valLoss: finiteOrNull(e.valLoss) ?? NaN, valAccuracy: finiteOrNull(e.valAccuracy) ?? NaN })),
      trainLoss: thin(losses, MAX_CURVE_POINTS), executor: ex.label,
    };
    if (status === 'stopped') {
      // Not told: it stays running in the saved state and re-runs on resume.
      this.emit('trialEnded', (o) => o.trialEnded?.({ trialId, summary }));
      return;
    }
    if (status === 'complete' && result.weights && settings && this.options.bestWeights) {
      await this.keepIfBest(trialId, result.valAccuracy, settings, modelOverrides, result.weights);
    }
    if (this.options.summaries) await this.saveSummary(summary);
    const record = this.study.tell(trialId, status === 'complete' ? { state: 'complete', value: result.valAccuracy }
      : status === 'pruned' ? { state: 'pruned' }
      : { state: 'failed', reason: failureReason ?? 'error', ...(message !== undefined ? { message } : {}) });
    await this.options.opened.saved();
    const best = this.study.best();
    this.emit('trialEnded', (o) => o.trialEnded?.({ trialId, record, summary, ...(best ? { best } : {}) }));
  }

  private better(a: number, b: number): boolean {
    return this.study.state.direction === 'maximize' ? a > b : a < b;
  }

  private keepIfBest(trialId: number, value: number, settings: TrialSettings, modelOverrides: ModelOverrides, weights: Float32Array): Promise<void> {
    const store = this.options.bestWeights!;
    const next = this.keptChain.then(async () => {
      // The new best if it beats every told trial and whatever this session kept while its trial was being told.
      // (Saved before tell: the study's best() does not include this trial yet.)
      const best = this.study.best();
      if (best?.value !== undefined && !this.better(value, best.value)) return;
      if (this.kept !== undefined && !this.better(value, this.kept.value)) return;
      await store.save({ trialId, value, settings, modelOverrides }, weights);
      this.kept = { trialId, value };
    });
    this.keptChain = next.catch(() => undefined);
    return next;
  }

  private saveSummary(summary: TrialSummary): Promise<void> {
    const store = this.options.summaries!;
    const next = this.summaryChain.then(() => store.save(summary));
    this.summaryChain = next.catch(() => undefined);
    return next;
  }

  private emit(name: string, call: (o: StudyObserver) => void): void {
    for (const o of this.options.observers ?? []) {
      try {
        call(o);
      } catch (e) {
        this.options.onObserverError?.(e, name);
      }
    }
  }
}

function failedResult(reason: FailureReason, message: string): TrialResult {
  return {
    status: 'failed', failureReason: reason, message, valAccuracy: NaN, valLoss: NaN, bestValAccuracy: NaN, trainLossFirst: NaN, trainLossLast: NaN,
    steps: 0, samplesPerSecond: 0, microBatch: 0, accumulation: 0, precision: 'fp32', lossScale: 1, peakGpuBytes: 0, backoffs: [], evals: [],
  };
}
