// Study events -> a StudyTracker (MLflow, or NoopTracker). Every call only enqueues into the tracker's outbox, so a
// slow or absent server never slows a trial. Metric keys: train_loss, samples_per_second (by optimizer step);
// val_loss, val_accuracy (by step, at each evaluation). Trial ids are "<studyId>.trial-<n>": stable across a resume,
// so a re-run trial reuses its child run.
import type { MemoryPlan } from '../engine/train/memory.ts';
import type { EvalPoint, ProgressPoint } from '../engine/train/run.ts';
import type { StudyState } from '../search/study.ts';
import type { MetricPoint, StudyTracker } from '../tracking/tracker.ts';
import type { StudyEndedEvent, StudyObserver, TrialEndedEvent, TrialStartedEvent } from './study-runner.ts';

export interface MlflowObserverOptions {
  /** Stable id of the study (no quote or backslash), e.g. from studyIdFor. */
  readonly studyId: string;
  /** Shown as the model (tag tunelab.model), e.g. the model folder's name. */
  readonly model: string;
  readonly datasetHash: string;
  /** Extra study settings logged as parent-run params (sequence length, limits, sampler, ...). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly now?: () => number;
}

/** A study id built from its name and creation time, safe for MLflow filters (letters, digits, - _ . only). */
export function studyIdFor(state: Pick<StudyState, 'name' | 'createdAtMs'>): string {
  const name = state.name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 80) || 'study';
  return `${name}-${Math.trunc(state.createdAtMs)}`;
}

export function trialIdFor(studyId: string, trialId: number): string {
  return `${studyId}.trial-${trialId}`;
}

export class MlflowObserver implements StudyObserver {
  private readonly now: () => number;
  private readonly seeds = new Map<number, number>();

  constructor(
    private readonly tracker: StudyTracker,
    private readonly options: MlflowObserverOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  studyStarted(e: { readonly state: StudyState; readonly resumed: boolean }): void {
    const s = e.state;
    this.tracker.studyStarted({
      studyId: this.options.studyId,
      studyName: s.name,
      space: s.space,
      settings: { metric: s.metric, direction: s.direction, sampler: s.sampler, pruner: s.pruner, budget: s.budget, queue: s.queue, ...this.options.settings },
      model: this.options.model,
      datasetHash: this.options.datasetHash,
      startTime: s.createdAtMs,
    });
  }

  trialStarted(e: TrialStartedEvent): void {
    const seed = e.settings?.seed ?? 0;
    this.seeds.set(e.trialId, seed);
    this.tracker.trialStarted({
      trialId: trialIdFor(this.options.studyId, e.trialId),
      number: e.trialId,
      params: e.params,
      seed,
      model: this.options.model,
      datasetHash: this.options.datasetHash,
      startTime: this.now(),
    });
  }

  trialPlan(e: { readonly trialId: number; readonly plan: MemoryPlan }): void {
    const t = this.now();
    this.tracker.trialMetrics(trialIdFor(this.options.studyId, e.trialId), [
      { key: 'micro_batch', value: e.plan.micro, step: 0, timestamp: t },
      { key: 'accumulation_steps', value: e.plan.accumulation, step: 0, timestamp: t },
      { key: 'planned_gpu_bytes', value: e.plan.bytes.total, step: 0, timestamp: t },
    ]);
  }

  trialProgress(e: { readonly trialId: number; readonly points: readonly ProgressPoint[] }): void {
    const t = this.now();
    const metrics: MetricPoint[] = [];
    for (const p of e.points) {
      metrics.push({ key: 'train_loss', value: p.loss, step: p.step, timestamp: t });
      metrics.push({ key: 'learning_rate', value: p.lr, step: p.step, timestamp: t });
    }
    const last = e.points.at(-1);
    if (last) metrics.push({ key: 'samples_per_second', value: last.samplesPerSecond, step: last.step, timestamp: t });
    this.tracker.trialMetrics(trialIdFor(this.options.studyId, e.trialId), metrics);
  }

  trialEval(e: { readonly trialId: number; readonly point: EvalPoint }): void {
    const t = this.now();
    this.tracker.trialMetrics(trialIdFor(this.options.studyId, e.trialId), [
      { key: 'val_loss', value: e.point.valLoss, step: e.point.step, timestamp: t },
      { key: 'val_accuracy', value: e.point.valAccuracy, step: e.point.step, timestamp: t },
    ]);
  }

  trialEnded(e: TrialEndedEvent): void {
    const id = trialIdFor(this.options.studyId, e.trialId);
    const s = e.summary;
    const reason = s.status === 'failed' ? (s.failureReason ?? 'error') : s.status === 'pruned' ? 'pruned by the study pruner' : s.status === 'stopped' ? 'stopped (re-runs on resume)' : undefined;
    this.tracker.trialEnded(id, { state: s.status, ...(reason !== undefined ? { reason } : {}), endTime: this.now() });
    if (e.best?.value !== undefined) this.tracker.studyMetrics([{ key: 'best_val_accuracy', value: e.best.value, step: e.trialId, timestamp: this.now() }]);
  }

  studyEnded(e: StudyEndedEvent): void {
    // The CLI uploads the report and the model before it ends the parent run (finishStudy); nothing to do here.
    void e;
  }

  /** Uploads the study's files to the parent run and ends it. `files` by reference are read when sent. */
  finishStudy(state: 'complete' | 'failed' | 'stopped', artifacts: { readonly inline: readonly { name: string; bytes: Uint8Array; contentType: string }[]; readonly refs: readonly { name: string; ref: string; contentType: string }[] }): void {
    for (const a of artifacts.inline) this.tracker.studyArtifact(a.name, a.bytes, a.contentType);
    for (const a of artifacts.refs) this.tracker.studyArtifactRef(a.name, a.ref, a.contentType);
    this.tracker.studyEnded(state, this.now());
  }
}
