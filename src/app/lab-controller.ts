// The page's coordinator: owns the services (data worker, trainer workers, IndexedDB stores, optional MLflow) and one
// study at a time; the UI reads `view` and calls the verbs (tune, pause, resume, stop, predict, downloads). Every
// change replaces `view` and fires a 'change' event (the UI re-renders; lit batches updates per frame).
//
// Lifecycle: tune(config) -> prepare (model files, data worker) -> start trainer workers -> open the study (IndexedDB,
// key "study:<id>") -> StudyRunner until a budget ends it -> final model (best weights kept in memory, or the best
// configuration re-run after a reload) -> test accuracy, downloads, "try it". "lab:current" records which study the
// page shows and whether it was running, so a reload shows it again and resumes it (nothing told is lost: the runner
// saves each tell before the next trial starts; a trial cut by the reload re-runs with the same id).
import { zipSync } from 'fflate';
import { wrap, proxy, type Remote } from 'comlink';
import { mapTrialParams } from '../coord/params.ts';
import { MlflowObserver } from '../coord/mlflow-observer.ts';
import { openStudy, StudyRunner, type StudyObserver, type TrialSummary } from '../coord/study-runner.ts';
import { DEFAULT_TRIAL, type TrialSettings } from '../engine/train/run.ts';
import type { MemoryPlan } from '../engine/train/memory.ts';
import { buildReport, reportToJson, type FinalModelReport } from '../export/report.ts';
import { renderReportHtml } from '../export/report-html.ts';
import type { Params } from '../search/space.ts';
import type { StudyState, TrialState } from '../search/study.ts';
import { MlflowTracker } from '../tracking/tracker.ts';
import type { DataWorkerApi, DataWorkerProgress } from '../../workers/data.worker.ts';
import type { GpuReport, ModelSummary, Prediction, TrainerData } from '../../workers/trainer.worker.ts';
import { checkSettings, describeData, describeModel, parseLabConfig, readSpace, type LabConfig } from './lab-config.ts';
import { dataSource, loadModelFiles, SourceError, tokenizerOf } from './sources.ts';
import { IdbTrialSummaryStore, MemoryBestWeights } from './study-stores.ts';
import { IdbHubFileCache, IdbOutboxStore, IdbStateStore, IdbStudyStore, openTuneLabDb, requestPersistentStorage, type TuneLabDb } from './storage/index.ts';
import { WorkerTrialExecutor } from './worker-executor.ts';

export const TUNELAB_VERSION = '0.1.0';
const CURRENT_KEY = 'lab:current';
/** Adapter features the engine can use (the full list is long and mostly about textures). */
const ENGINE_FEATURES = new Set(['shader-f16', 'subgroups', 'timestamp-query', 'chromium-experimental-subgroup-matrix']);

export type LabPhase = 'idle' | 'preparing' | 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'finished' | 'error';
export type TrialStatus = TrialState | 'stopped';

export interface LiveTrial {
  id: number;
  params: Params;
  status: TrialStatus;
  /** Failure reason word (diverged, out-of-memory, ...) or why it was pruned/stopped. */
  reason: string | null;
  message: string | null;
  attempt: number;
  step: number;
  totalSteps: number;
  startedAtMs: number | null;
  seconds: number | null;
  /** Seconds left, from the pace so far; null before the first progress report. */
  etaSeconds: number | null;
  losses: { step: number; loss: number }[];
  evals: { step: number; valAccuracy: number; valLoss: number }[];
  value: number | null;
  plan: MemoryPlan | null;
  executor: string;
}

export interface FinalView {
  status: 'none' | 'working' | 'ready' | 'error';
  trialId: number | null;
  mode: FinalModelReport['mode'] | null;
  testAccuracy: number | null;
  testLoss: number | null;
  testRows: number;
  message: string | null;
}

export interface LabView {
  phase: LabPhase;
  /** What is happening now, one line. */
  status: string;
  /** A problem the user must act on, in words; null when none. */
  error: string | null;
  /** Set when the browser has no usable WebGPU: what happened and what to do. */
  noWebGpu: string | null;
  config: LabConfig | null;
  studyName: string | null;
  gpu: GpuReport | null;
  model: ModelSummary | null;
  data: { train: number; validation: number; test: number; cached: boolean; skipped: number } | null;
  trials: LiveTrial[];
  best: { trialId: number; value: number; params: Params } | null;
  final: FinalView;
  mlflow: string | null;
  startedAtMs: number | null;
  budgetMinutes: number | null;
}

interface CurrentRecord {
  studyId: string;
  config: LabConfig;
  /** 'running' at a reload means: resume on load. */
  status: 'running' | 'paused' | 'stopped' | 'finished';
}

const NO_FINAL: FinalView = { status: 'none', trialId: null, mode: null, testAccuracy: null, testLoss: null, testRows: 0, message: null };

function emptyView(): LabView {
  return { phase: 'idle', status: 'Ready.', error: null, noWebGpu: null, config: null, studyName: null, gpu: null, model: null, data: null, trials: [], best: null, final: NO_FINAL, mlflow: null, startedAtMs: null, budgetMinutes: null };
}

function liveFromRecord(t: StudyState['trials'][number], s: TrialSummary | undefined): LiveTrial {
  return {
    id: t.id, params: t.params, status: t.state, reason: t.failure?.reason ?? null, message: t.failure?.message ?? s?.message ?? null,
    attempt: t.attempts, step: s?.steps ?? 0, totalSteps: s?.totalSteps ?? 0, startedAtMs: t.startedAtMs ?? null, seconds: s?.seconds ?? null, etaSeconds: null,
    losses: s ? s.trainLoss.map((p) => ({ step: p.step, loss: p.loss })) : [],
    evals: s ? s.evals.map((e) => ({ step: e.step, valAccuracy: e.valAccuracy, valLoss: e.valLoss })) : [],
    value: t.value ?? null, plan: null, executor: s?.executor ?? '',
  };
}

function words(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface Picks {
  modelFiles: File[] | null;
  dataFiles: File[] | null;
}

export class LabController extends EventTarget {
  view: LabView = emptyView();
  private db: TuneLabDb | undefined;
  private state: IdbStateStore | undefined;
  private dataWorker: Remote<DataWorkerApi> | undefined;
  private executors: WorkerTrialExecutor[] = [];
  private runner: StudyRunner | undefined;
  private bestWeights = new MemoryBestWeights();
  private current: CurrentRecord | undefined;
  private summaries: IdbTrialSummaryStore | undefined;
  private prepared: { data: TrainerData; modelFiles: Map<string, Uint8Array>; source: string; cacheKey: string } | undefined;
  private tracker: MlflowTracker | undefined;
  /** "url token" the tracker was opened for: a study with another server gets a new tracker. */
  private trackerKey = '';
  /** The running study's MLflow observer: finish() ends its parent run. */
  private mlflowObserver: MlflowObserver | undefined;
  private userStop: 'pause' | 'stop' | null = null;
  private finalReady = false;

  private set(patch: Partial<LabView>): void {
    this.view = { ...this.view, ...patch };
    this.dispatchEvent(new Event('change'));
  }

  private setTrial(id: number, patch: Partial<LiveTrial>): void {
    this.set({ trials: this.view.trials.map((t) => (t.id === id ? { ...t, ...patch } : t)) });
  }

  /** Page load: WebGPU check, storage, and the study that was on the page before a reload (resumed if it was running). */
  async start(): Promise<void> {
    if (!('gpu' in navigator) || navigator.gpu === undefined) {
      this.set({ noWebGpu: 'This browser does not offer WebGPU (navigator.gpu is missing), so TuneLab cannot train here.' });
    } else {
      try {
        const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (adapter === null) {
          this.set({ noWebGpu: 'WebGPU is switched on but no GPU adapter is available: the GPU may be blocked for this browser or missing a driver.' });
        } else {
          const limits = { maxBufferSize: adapter.limits.maxBufferSize, maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupsPerDimension: adapter.limits.maxComputeWorkgroupsPerDimension, maxStorageBuffersPerShaderStage: adapter.limits.maxStorageBuffersPerShaderStage };
          const i = adapter.info;
          const features = [...adapter.features].filter((f) => ENGINE_FEATURES.has(f)).sort();
          this.set({ gpu: { adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description }, limits, features } });
        }
      } catch (e) {
        this.set({ noWebGpu: `WebGPU failed to start: ${words(e)}` });
      }
    }
    try {
      this.db = await openTuneLabDb();
      this.state = new IdbStateStore(this.db);
      void requestPersistentStorage();
    } catch (e) {
      this.set({ error: `This browser's storage (IndexedDB) is not available, so studies cannot be kept across reloads: ${words(e)}` });
      return;
    }
    const stored = await this.state.get<CurrentRecord>(CURRENT_KEY);
    const config = stored ? parseLabConfig(stored.config) : undefined;
    if (!stored || !config) return;
    this.current = { ...stored, config };
    await this.showStored();
    if (stored.status === 'running' && this.view.noWebGpu === null) await this.resume();
  }

  /** Draws the stored study (trials, curves, best) without running anything. */
  private async showStored(): Promise<void> {
    const cur = this.current;
    if (!cur || !this.state) return;
    const studyStore = new IdbStudyStore(this.state, cur.studyId);
    this.summaries = new IdbTrialSummaryStore(this.state, cur.studyId);
    const st = await studyStore.load();
    const sums = await this.summaries.load();
    const byId = new Map(sums.map((s) => [s.trialId, s]));
    const plans = await this.storedPlans(cur.studyId);
    const trials = st ? st.trials.map((t) => ({ ...liveFromRecord(t, byId.get(t.id)), plan: plans.get(t.id) ?? null })) : [];
    // A study that was running stays 'paused' until resume() (called right after this) takes it up.
    const phase: LabPhase = cur.status === 'finished' ? 'finished' : cur.status === 'stopped' ? 'stopped' : 'paused';
    this.set({ config: cur.config, studyName: st?.name ?? cur.studyId, trials, best: this.bestOf(trials), phase, budgetMinutes: cur.config.settings.maxMinutes,
      status: phase === 'finished' ? 'The study is finished.' : phase === 'stopped' ? 'The study was stopped.' : cur.status === 'running' ? 'Resuming the study…' : 'The study is paused.' });
  }

  /** Memory plans saved by trialPlan (display only), by trial id. */
  private async storedPlans(studyId: string): Promise<Map<number, MemoryPlan>> {
    const out = new Map<number, MemoryPlan>();
    if (!this.state) return out;
    const prefix = `plan:${studyId}:`;
    for (const key of await this.state.keys(prefix)) {
      const plan = await this.state.get<MemoryPlan>(key);
      if (plan !== undefined) out.set(Number(key.slice(prefix.length)), plan);
    }
    return out;
  }

  private bestOf(trials: readonly LiveTrial[]): LabView['best'] {
    let best: LabView['best'] = null;
    for (const t of trials) if (t.status === 'complete' && t.value !== null && (best === null || t.value > best.value)) best = { trialId: t.id, value: t.value, params: t.params };
    return best;
  }

  /** Starts a new study with `config` (files the user picked come in `picks`). */
  async tune(config: LabConfig, picks: Picks): Promise<void> {
    if (this.busy()) return;
    const space = readSpace(config.spaceText);
    const problems = [...(space.ok ? [] : space.issues), ...checkSettings(config.settings)];
    if (problems.length > 0) { this.set({ error: problems.join('\n') }); return; }
    if (this.view.noWebGpu !== null) { this.set({ error: this.view.noWebGpu }); return; }
    if (!this.state) { this.set({ error: 'This browser\'s storage (IndexedDB) is not available.' }); return; }
    const studyId = `lab-${Date.now()}`;
    this.current = { studyId, config, status: 'running' };
    this.bestWeights = new MemoryBestWeights();
    this.finalReady = false;
    this.prepared = undefined;
    this.set({ ...emptyView(), gpu: this.view.gpu, config, phase: 'preparing', status: 'Preparing…', studyName: studyId, budgetMinutes: config.settings.maxMinutes });
    await this.run(false, picks);
  }

  /** Continues the stored study (after a reload, or after Pause). */
  async resume(): Promise<void> {
    if (this.busy() || !this.current) return;
    this.current = { ...this.current, status: 'running' };
    this.set({ phase: 'preparing', status: 'Resuming the study…', error: null });
    await this.run(true, { modelFiles: null, dataFiles: null });
  }

  /** Ends running trials now; they run again from their start on Resume. */
  pause(): void {
    if (this.view.phase !== 'running' || !this.runner) return;
    this.userStop = 'pause';
    this.set({ phase: 'pausing', status: 'Pausing: the running trials stop and will restart on Resume…' });
    this.runner.stop();
  }

  /** Ends the study: no more trials; the best so far becomes the final model. */
  stop(): void {
    if (this.view.phase === 'paused') {
      void this.finish('stopped');
      return;
    }
    if (this.view.phase !== 'running' || !this.runner) return;
    this.userStop = 'stop';
    this.set({ phase: 'stopping', status: 'Stopping…' });
    this.runner.stop();
  }

  busy(): boolean {
    return ['preparing', 'running', 'pausing', 'stopping'].includes(this.view.phase) || this.view.final.status === 'working';
  }

  private async saveCurrent(): Promise<void> {
    if (this.current && this.state) await this.state.put(CURRENT_KEY, this.current);
  }

  private async prepare(cfg: LabConfig, picks: Picks): Promise<NonNullable<LabController['prepared']>> {
    if (this.prepared) return this.prepared;
    const db = this.db!;
    const cache = new IdbHubFileCache(db);
    const progress = (text: string): void => this.set({ status: text });
    const model = await loadModelFiles(cfg.model, cache, picks.modelFiles, progress);
    const source = await dataSource(cfg.data, cache, picks.dataFiles, progress);
    this.dataWorker ??= wrap<DataWorkerApi>(new Worker(new URL('../../workers/data.worker.ts', import.meta.url), { type: 'module', name: 'data' }));
    const s = cfg.settings;
    const onProgress = (p: DataWorkerProgress): void => {
      if (p.stage === 'download') this.set({ status: `Downloading ${p.file}: ${(p.loaded / 2 ** 20).toFixed(1)} MiB${p.total ? ` of ${(p.total / 2 ** 20).toFixed(1)} MiB` : ''}` });
      else if (p.stage === 'tokenize') this.set({ status: `Tokenizing ${p.split ?? ''}: ${p.done ?? 0} / ${p.total ?? 0} reviews` });
      else this.set({ status: `Preparing the data: ${p.stage}` });
    };
    const r = await this.dataWorker.prepare({
      source, tokenizer: tokenizerOf(model.files), maxLen: s.seqLen, seed: s.seed,
      ...(s.trainRows !== null ? { trainLimit: s.trainRows } : {}), ...(s.valRows !== null ? { valLimit: s.valRows } : {}),
      ...(s.testRows !== null ? { testLimit: s.testRows } : s.trainRows !== null || s.valRows !== null ? { testLimit: 1_000_000 } : {}),
    }, proxy(onProgress));
    if (!r.ok) throw new SourceError(`Dataset (${describeData(cfg.data)}): ${r.error.message}`);
    const d = r.dataset;
    this.set({ data: { train: d.train.count, validation: d.validation.count, test: d.test?.count ?? 0, cached: d.cached, skipped: d.skipped.count } });
    this.prepared = { data: { train: d.train, validation: d.validation, ...(d.test ? { test: d.test } : {}) }, modelFiles: model.files, source: model.source, cacheKey: d.cacheKey };
    return this.prepared;
  }

  private async startWorkers(count: number): Promise<WorkerTrialExecutor[]> {
    while (this.executors.length > count) this.executors.pop()?.terminate();
    while (this.executors.length < count) {
      this.set({ status: `Starting trainer worker ${this.executors.length + 1} of ${count} (opening the GPU)…` });
      const { executor, gpu } = await WorkerTrialExecutor.start(this.executors.length);
      if (!gpu.ok) {
        executor.terminate();
        if (gpu.reason === 'no-webgpu') this.set({ noWebGpu: gpu.message });
        throw new SourceError(`The GPU could not be opened in the trainer worker: ${gpu.message}`);
      }
      if (this.executors.length === 0) this.set({ gpu: gpu.gpu });
      this.executors.push(executor);
    }
    return this.executors;
  }

  private baseSettings(cfg: LabConfig): TrialSettings {
    const s = cfg.settings;
    return { ...DEFAULT_TRIAL, seqLen: s.seqLen, evalsPerEpoch: s.evalsPerEpoch, seed: s.seed, logEvery: 2 };
  }

  private async run(resume: boolean, picks: Picks): Promise<void> {
    const cur = this.current!;
    const cfg = cur.config;
    this.userStop = null;
    let executors: WorkerTrialExecutor[];
    try {
      await this.saveCurrent();
      const prepared = await this.prepare(cfg, picks);
      executors = await this.startWorkers(cfg.settings.workers);
      this.set({ status: 'Loading the model into the trainer workers…' });
      for (const ex of executors) {
        const r = await ex.remote.load({ files: prepared.modelFiles, source: prepared.source, seed: cfg.settings.seed }, prepared.data);
        if (!r.ok) throw new SourceError(r.message);
        this.set({ model: r.model });
      }
    } catch (e) {
      // Nothing ran: a new study that could not start is forgotten; a resumed one stays as it was.
      this.current = { ...cur, status: resume ? 'paused' : 'stopped' };
      if (resume) await this.saveCurrent();
      else if (this.state) await this.state.delete(CURRENT_KEY);
      this.set({ phase: resume ? 'paused' : 'error', error: words(e), status: resume ? 'Could not resume the study.' : 'Could not start the study.' });
      return;
    }
    const prepared = this.prepared!;
    const store = new IdbStudyStore(this.state!, cur.studyId);
    this.summaries = new IdbTrialSummaryStore(this.state!, cur.studyId);
    const space = readSpace(cfg.spaceText);
    let opened;
    try {
      opened = await openStudy({
        store, resume,
        create: {
          name: cur.studyId, space: space.ok ? space.space : {},
          budget: { maxTrials: cfg.settings.maxTrials, maxWallMinutes: cfg.settings.maxMinutes },
          sampler: { kind: 'tpe', seed: cfg.settings.seed, nStartupJobs: Math.min(10, Math.max(2, Math.floor(cfg.settings.maxTrials / 3))) },
          pruner: cfg.settings.pruning ? { kind: 'median', nStartupTrials: 2 } : { kind: 'none' },
        },
      });
    } catch (e) {
      this.set({ phase: 'error', error: `The study could not be opened: ${words(e)}`, status: 'Could not start the study.' });
      return;
    }
    const observers: StudyObserver[] = [this.uiObserver()];
    this.mlflowObserver = undefined;
    if (cfg.mlflow && cfg.mlflow.url.trim() !== '') {
      try {
        const key = `${cfg.mlflow.url.trim()} ${cfg.mlflow.token.trim()}`;
        if (this.tracker && this.trackerKey !== key) {
          await this.tracker.close(0); // what is still pending stays in the outbox for the next tracker
          this.tracker = undefined;
        }
        this.trackerKey = key;
        this.tracker ??= await MlflowTracker.open({
          url: cfg.mlflow.url.trim(), store: new IdbOutboxStore(this.db!), tunelabVersion: TUNELAB_VERSION,
          ...(cfg.mlflow.token.trim() !== '' ? { auth: { kind: 'bearer' as const, token: cfg.mlflow.token.trim() } } : {}),
          onError: (err, info) => this.set({ mlflow: `MLflow at ${cfg.mlflow?.url ?? ''} refused ${info.op.type}: ${words(err)}${info.willRetry ? ' (will retry; training goes on)' : ' (dropped)'}` }),
        });
        this.mlflowObserver = new MlflowObserver(this.tracker, { studyId: cur.studyId, model: describeModel(cfg.model), datasetHash: prepared.cacheKey, settings: { seq_len: cfg.settings.seqLen, train_rows: cfg.settings.trainRows, val_rows: cfg.settings.valRows } });
        observers.push(this.mlflowObserver);
        this.set({ mlflow: `Logging to MLflow at ${cfg.mlflow.url}` });
      } catch (e) {
        this.set({ mlflow: `MLflow at ${cfg.mlflow.url} cannot be used: ${words(e)} (the study runs without it)` });
      }
    }
    this.runner = new StudyRunner({
      opened, executors, baseSettings: this.baseSettings(cfg), observers, summaries: this.summaries, bestWeights: this.bestWeights,
      onObserverError: (e, name) => console.warn(`observer ${name}: ${words(e)}`),
    });
    const byId = new Map((await this.summaries.load()).map((s) => [s.trialId, s]));
    const plans = await this.storedPlans(cur.studyId);
    this.set({ phase: 'running', status: resume ? 'Study resumed.' : 'Study running.', trials: opened.study.state.trials.map((t) => ({ ...liveFromRecord(t, byId.get(t.id)), plan: plans.get(t.id) ?? null })), startedAtMs: Date.now(), error: null });
    const outcome = await this.runner.run();
    this.runner = undefined;
    if (outcome.reason === 'error') {
      this.current = { ...cur, status: 'paused' };
      await this.saveCurrent();
      this.set({ phase: 'paused', error: `The study stopped on an error: ${outcome.error ?? 'unknown'}. Resume to continue it.`, status: 'Paused after an error.' });
      return;
    }
    if (outcome.reason === 'stopped' && this.userStop === 'pause') {
      this.current = { ...cur, status: 'paused' };
      await this.saveCurrent();
      this.set({ phase: 'paused', status: 'Paused. Resume continues the study; trials that were running start again.', trials: this.view.trials.map((t) => (t.status === 'running' ? { ...t, status: 'pending', etaSeconds: null } : t)) });
      return;
    }
    await this.finish(outcome.reason === 'stopped' ? 'stopped' : 'finished');
  }

  private async finish(status: 'stopped' | 'finished'): Promise<void> {
    this.current = { ...this.current!, status };
    await this.saveCurrent();
    this.set({ phase: status, status: status === 'finished' ? 'The study is finished.' : 'The study was stopped.', trials: this.view.trials.map((t) => (t.status === 'running' ? { ...t, status: 'stopped', etaSeconds: null } : t)) });
    await this.finalModel();
    await this.endMlflowStudy(status);
  }

  /** Uploads report.json and best_config.json to the study's MLflow parent run and ends it (enqueued: never waits on the server). */
  private async endMlflowStudy(status: 'stopped' | 'finished'): Promise<void> {
    const obs = this.mlflowObserver;
    this.mlflowObserver = undefined;
    if (!obs) return;
    const inline: { name: string; bytes: Uint8Array; contentType: string }[] = [];
    const report = await this.report('json');
    if (typeof report !== 'string') inline.push({ name: 'report.json', bytes: new Uint8Array(await report.blob.arrayBuffer()), contentType: 'application/json' });
    const best = this.view.best;
    if (best) inline.push({ name: 'best_config.json', bytes: new TextEncoder().encode(JSON.stringify({ trial: best.trialId, value: best.value, params: best.params }, null, 1)), contentType: 'application/json' });
    obs.finishStudy(status === 'finished' ? 'complete' : 'stopped', { inline, refs: [] });
  }

  /** The best trial's weights on trainer worker 1: kept from this session, or re-trained (same seed) after a reload. */
  async finalModel(): Promise<void> {
    const best = this.view.best;
    const cur = this.current;
    if (!best || !cur || this.view.final.status === 'working') return;
    this.set({ final: { ...NO_FINAL, status: 'working', trialId: best.trialId, message: 'Evaluating the best model on the test split…' } });
    try {
      if (!this.prepared || this.executors.length === 0) {
        await this.prepare(cur.config, { modelFiles: null, dataFiles: null });
        const [ex] = await this.startWorkers(Math.max(1, this.executors.length));
        const r = await ex!.remote.load({ files: this.prepared!.modelFiles, source: this.prepared!.source, seed: cur.config.settings.seed }, this.prepared!.data);
        if (!r.ok) throw new SourceError(r.message);
        this.set({ model: r.model });
      }
      const ex = this.executors[0]!;
      let weights = this.bestWeights.held?.trialId === best.trialId ? this.bestWeights.held.weights : undefined;
      let mode: FinalModelReport['mode'] = 'kept';
      if (!weights) {
        mode = 'retrained-missing-weights';
        this.set({ final: { ...this.view.final, message: `Re-training trial ${best.trialId} (its weights were not kept across the reload)…` } });
        const { settings, modelOverrides } = mapTrialParams(best.params, this.baseSettings(cur.config));
        const result = await ex.run({ trialId: best.trialId, attempt: 0, params: best.params, settings, modelOverrides, keepWeights: true }, {
          onPlan: () => undefined, onProgress: () => undefined, onEval: () => Promise.resolve('continue'),
        }, new AbortController().signal);
        if (!result.weights) throw new Error(`re-training trial ${best.trialId} ended ${result.status}${result.message ? `: ${result.message}` : ''}`);
        weights = result.weights;
        this.bestWeights.held = { trialId: best.trialId, value: best.value, settings, modelOverrides, weights };
      }
      await ex.remote.setFinal(weights);
      const test = await ex.remote.evaluateTest(cur.config.settings.seqLen, 32);
      this.finalReady = true;
      if ('error' in test) {
        this.set({ final: { status: 'ready', trialId: best.trialId, mode, testAccuracy: null, testLoss: null, testRows: 0, message: `No test accuracy: ${test.error}` } });
      } else {
        this.set({ final: { status: 'ready', trialId: best.trialId, mode, testAccuracy: test.accuracy, testLoss: test.loss, testRows: test.rows, message: null } });
      }
    } catch (e) {
      this.set({ final: { ...this.view.final, status: 'error', message: `The final model could not be made: ${words(e)}` } });
    }
  }

  async predict(text: string): Promise<Prediction | string> {
    const ex = this.executors[0];
    if (!ex || !this.finalReady) return 'The tuned model is not ready yet.';
    if (text.trim() === '') return 'Type a review first.';
    const r = await ex.remote.predict([text], this.current?.config.settings.seqLen ?? 64);
    if ('error' in r) return r.error;
    return r[0] ?? 'no prediction';
  }

  /** The final model as a Hugging Face folder inside a zip. */
  async modelZip(): Promise<{ name: string; blob: Blob } | string> {
    const ex = this.executors[0];
    if (!ex || !this.finalReady) return 'The tuned model is not ready yet.';
    const files = await ex.remote.exportFolder();
    if (!(files instanceof Map)) return files.error;
    const folder = `tunelab-${this.current?.studyId ?? 'model'}-trial-${this.view.final.trialId ?? 0}`;
    const entries: Record<string, Uint8Array> = {};
    for (const [name, bytes] of files) entries[`${folder}/${name}`] = bytes;
    const zip = zipSync(entries, { level: 1 });
    return { name: `${folder}.zip`, blob: new Blob([zip], { type: 'application/zip' }) };
  }

  async report(kind: 'json' | 'html'): Promise<{ name: string; blob: Blob } | string> {
    const cur = this.current;
    if (!cur || !this.state) return 'No study yet.';
    const st = await new IdbStudyStore(this.state, cur.studyId).load();
    if (!st) return 'The study is not stored.';
    const sums = await new IdbTrialSummaryStore(this.state, cur.studyId).load();
    const f = this.view.final;
    const final: FinalModelReport | null = f.status === 'ready' && f.trialId !== null && f.mode !== null
      ? { mode: f.mode, trialNumber: f.trialId, testAccuracy: f.testAccuracy, testLoss: f.testLoss, testRows: f.testRows, path: null } : null;
    const report = buildReport(st, sums, {
      model: { source: describeModel(cur.config.model), ...(this.view.model ?? {}) },
      dataset: { source: describeData(cur.config.data), ...(this.view.data ?? {}) },
      settings: { ...cur.config.settings }, final, tunelabVersion: TUNELAB_VERSION,
    });
    return kind === 'json'
      ? { name: `${cur.studyId}-report.json`, blob: new Blob([reportToJson(report)], { type: 'application/json' }) }
      : { name: `${cur.studyId}-report.html`, blob: new Blob([renderReportHtml(report)], { type: 'text/html' }) };
  }

  /** Forgets the shown study (its records stay in storage) so a new one can be set up. */
  async newStudy(): Promise<void> {
    if (this.busy()) return;
    if (this.state) await this.state.delete(CURRENT_KEY);
    this.current = undefined;
    this.prepared = undefined;
    this.finalReady = false;
    this.set({ ...emptyView(), gpu: this.view.gpu, noWebGpu: this.view.noWebGpu });
  }

  private uiObserver(): StudyObserver {
    return {
      trialStarted: (e) => {
        const existing = this.view.trials.find((t) => t.id === e.trialId);
        const live: LiveTrial = {
          id: e.trialId, params: e.params, status: 'running', reason: null, message: null, attempt: e.attempt, step: 0, totalSteps: 0, startedAtMs: Date.now(), seconds: null,
          etaSeconds: null, losses: [], evals: [], value: null, plan: null, executor: e.executor,
        };
        this.set({ trials: existing ? this.view.trials.map((t) => (t.id === e.trialId ? live : t)) : [...this.view.trials, live].sort((a, b) => a.id - b.id) });
      },
      trialPlan: (e) => {
        this.setTrial(e.trialId, { plan: e.plan });
        const key = this.current ? `plan:${this.current.studyId}:${String(e.trialId).padStart(6, '0')}` : undefined;
        if (key && this.state) this.state.put(key, e.plan).catch(() => undefined); // display only: a lost plan is harmless
      },
      trialProgress: (e) => {
        const t = this.view.trials.find((x) => x.id === e.trialId);
        const last = e.points.at(-1);
        if (!t || !last) return;
        const elapsed = t.startedAtMs !== null ? (Date.now() - t.startedAtMs) / 1000 : 0;
        const eta = last.step > 0 ? (elapsed / last.step) * (last.totalSteps - last.step) : null;
        this.setTrial(e.trialId, { step: last.step, totalSteps: last.totalSteps, etaSeconds: eta, losses: [...t.losses, ...e.points.map((p) => ({ step: p.step, loss: p.loss }))] });
      },
      trialEval: (e) => {
        const t = this.view.trials.find((x) => x.id === e.trialId);
        if (!t) return;
        this.setTrial(e.trialId, { evals: [...t.evals, { step: e.point.step, valAccuracy: e.point.valAccuracy, valLoss: e.point.valLoss }] });
      },
      trialEnded: (e) => {
        const s = e.summary;
        const status: TrialStatus = e.record?.state ?? 'stopped';
        const reason = s.status === 'failed' ? (s.failureReason ?? 'error') : s.status === 'pruned' ? 'below the median of earlier trials' : s.status === 'stopped' ? 'stopped; runs again on resume' : null;
        this.setTrial(e.trialId, { status, reason, message: s.message ?? null, value: e.record?.value ?? null, seconds: s.seconds, etaSeconds: null, step: s.steps, totalSteps: s.totalSteps });
        if (e.best?.value !== undefined) this.set({ best: { trialId: e.best.id, value: e.best.value, params: e.best.params } });
      },
    };
  }
}
