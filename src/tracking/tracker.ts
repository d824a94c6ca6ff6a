// Study/trial events -> MLflow. One experiment per study name; one parent run per study (tag
// tunelab.study_id, tunelab.kind=study); one nested child run per trial (mlflow.parentRunId,
// tunelab.trial_id). Every method only enqueues into the persistent outbox and returns: training never
// waits on the tracking server. Call flush()/close() at the end of a study.

import { bytesToBase64 } from './base64.ts';
import type { KeyValue, Metric, MlflowAuth, RunStatus } from './mlflow-client.ts';
import { MlflowClient, MLFLOW_LIMITS, toMetricValue, truncateValue } from './mlflow-client.ts';
import { MlflowSender, TAG } from './mlflow-sender.ts';
import type { FlushResult, OutboxStats, OutboxStore, TrackingOp } from './outbox.ts';
import { Outbox } from './outbox.ts';

export interface StudyStartedEvent {
  readonly studyId: string;
  /** Becomes the experiment name (several studies of one name share the experiment). */
  readonly studyName: string;
  /** The search space, any JSON value; logged as params (space.<name>) and as space.json. */
  readonly space: unknown;
  /** Study settings; each key becomes a param (JSON for non-strings) and the whole is settings.json. */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly model?: string;
  readonly datasetHash?: string;
  readonly tags?: Readonly<Record<string, string>>;
  /** Unix epoch ms; defaults to now. */
  readonly startTime?: number;
}

export interface TrialStartedEvent {
  readonly trialId: string;
  /** 0- or 1-based as TuneLab numbers trials; the run is named trial-<number>. */
  readonly number: number;
  readonly params: Readonly<Record<string, unknown>>;
  readonly seed: number;
  readonly model: string;
  readonly datasetHash: string;
  readonly startTime?: number;
}

export interface MetricPoint {
  /** e.g. train_loss, val_loss, val_accuracy, samples_per_second */
  readonly key: string;
  readonly value: number;
  readonly step: number;
  /** Unix epoch ms. */
  readonly timestamp: number;
}

export type TrialEndState = 'complete' | 'failed' | 'pruned' | 'stopped';
export type StudyEndState = 'complete' | 'failed' | 'stopped';

export interface TrialEndedEvent {
  readonly state: TrialEndState;
  /** Why it failed (diverged, out-of-memory, device-lost, invalid-config, data) or was stopped/pruned. */
  readonly reason?: string;
  readonly endTime?: number;
}

/** What the rest of TuneLab programs against; NoopTracker when no tracking server is configured. */
export interface StudyTracker {
  studyStarted(event: StudyStartedEvent): void;
  trialStarted(event: TrialStartedEvent): void;
  trialMetrics(trialId: string, metrics: readonly MetricPoint[]): void;
  trialEnded(trialId: string, event: TrialEndedEvent): void;
  /** Metrics on the study's parent run (e.g. best_val_loss after each trial). */
  studyMetrics(metrics: readonly MetricPoint[]): void;
  /** A small file (report.json, best_config.json) under the parent run's artifacts; bytes are copied into the outbox. */
  studyArtifact(name: string, bytes: Uint8Array, contentType: string): void;
  /** A large file (model weights) by reference; the tracker's resolveArtifact reads it when it is sent. */
  studyArtifactRef(name: string, ref: string, contentType: string): void;
  studyEnded(state: StudyEndState, endTime?: number): void;
  stats(): OutboxStats;
  flush(timeoutMs: number): Promise<FlushResult>;
  close(timeoutMs?: number): Promise<FlushResult>;
}

export interface MlflowTrackerOptions {
  /** Tracking server root, e.g. http://127.0.0.1:5000 */
  readonly url: string;
  readonly auth?: MlflowAuth;
  /** Where pending operations live: createFileOutboxStore(path) in Node, MemoryOutboxStore/IndexedDB in the browser. */
  readonly store: OutboxStore;
  /** TuneLab's version (package.json), tagged on every run as tunelab.version. */
  readonly tunelabVersion: string;
  /** Per-request timeout, ms (default 15 000). */
  readonly timeoutMs?: number;
  /** Retry backoff, ms: first delay (default 500) and cap (default 30 000). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Coalescing window for metric events, ms (default 200). */
  readonly lingerMs?: number;
  readonly resolveArtifact?: (ref: string) => Promise<Uint8Array | Blob>;
  /** Each failed delivery attempt (willRetry false: dropped). Default: none; the CLI should log these. */
  readonly onError?: (error: unknown, info: { readonly willRetry: boolean; readonly attempt: number; readonly op: TrackingOp }) => void;
  readonly fetch?: typeof fetch;
}

const RUN_STATUS: Record<TrialEndState, RunStatus> = { complete: 'FINISHED', failed: 'FAILED', pruned: 'KILLED', stopped: 'KILLED' };
const STUDY_STATUS: Record<StudyEndState, RunStatus> = { complete: 'FINISHED', failed: 'FAILED', stopped: 'KILLED' };

/** MLflow treats keys as file names: keep them relative, without . or .. segments, within 250 chars. */
export function sanitizeKey(key: string): string {
  const cleaned = key
    .replace(/[^\w.\- /:]/g, '_')
    .split('/')
    .map((seg) => (seg === '' || seg === '.' || seg === '..' ? '_' : seg))
    .join('/');
  return cleaned.slice(0, MLFLOW_LIMITS.keyLength) || '_';
}

function valueToString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === undefined) return 'undefined';
  return JSON.stringify(v) ?? `<${typeof v}>`;
}

function param(key: string, v: unknown): KeyValue {
  return { key: sanitizeKey(key), value: truncateValue(valueToString(v), MLFLOW_LIMITS.paramValueLength) };
}

function tag(key: string, v: string): KeyValue {
  return { key: sanitizeKey(key), value: truncateValue(v, MLFLOW_LIMITS.tagValueLength) };
}

function checkId(what: string, id: string): void {
  if (id.length === 0 || /['\\]/.test(id)) throw new Error(`${what} ${JSON.stringify(id)} must be non-empty and contain no quote or backslash`);
}

function toMetrics(points: readonly MetricPoint[]): Metric[] {
  return points.map((p) => ({
    key: sanitizeKey(p.key),
    value: toMetricValue(p.value),
    step: Math.trunc(p.step),
    timestamp: Math.trunc(p.timestamp),
  }));
}

const enc = new TextEncoder();

export class MlflowTracker implements StudyTracker {
  private study: { readonly studyId: string; readonly experimentName: string } | null = null;

  private constructor(
    private readonly outbox: Outbox,
    private readonly version: string,
  ) {}

  /** Opens the outbox (delivering what an earlier process left) and returns a tracker ready for events. */
  static async open(options: MlflowTrackerOptions): Promise<MlflowTracker> {
    const clientOptions = {
      baseUrl: options.url,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    };
    const client = new MlflowClient(clientOptions);
    const sender = new MlflowSender(client, options.resolveArtifact ? { resolveArtifact: options.resolveArtifact } : {});
    const outbox = await Outbox.open({
      store: options.store,
      send: sender.send,
      ...(options.baseDelayMs !== undefined ? { baseDelayMs: options.baseDelayMs } : {}),
      ...(options.maxDelayMs !== undefined ? { maxDelayMs: options.maxDelayMs } : {}),
      ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
    return new MlflowTracker(outbox, options.tunelabVersion);
  }

  private current(event: string): { readonly studyId: string; readonly experimentName: string } {
    if (!this.study) throw new Error(`MlflowTracker.${event} before studyStarted`);
    return this.study;
  }

  studyStarted(e: StudyStartedEvent): void {
    checkId('studyId', e.studyId);
    const experimentName = truncateValue(e.studyName.trim() || e.studyId, MLFLOW_LIMITS.experimentNameLength);
    this.study = { studyId: e.studyId, experimentName };
    const params: KeyValue[] = [];
    if (e.space !== null && typeof e.space === 'object' && !Array.isArray(e.space)) {
      for (const [k, v] of Object.entries(e.space as Record<string, unknown>)) params.push(param(`space.${k}`, v));
    } else params.push(param('space', e.space));
    for (const [k, v] of Object.entries(e.settings)) params.push(param(k, v));
    const tags: KeyValue[] = [
      tag(TAG.studyId, e.studyId),
      tag(TAG.kind, 'study'),
      tag('tunelab.version', this.version),
      tag('mlflow.source.name', 'tunelab'),
    ];
    if (e.model !== undefined) tags.push(tag('tunelab.model', e.model));
    if (e.datasetHash !== undefined) tags.push(tag('tunelab.dataset_hash', e.datasetHash));
    for (const [k, v] of Object.entries(e.tags ?? {})) tags.push(tag(k, v));
    this.outbox.enqueue({ type: 'start-study', studyId: e.studyId, experimentName, runName: experimentName, startTime: e.startTime ?? Date.now(), params, tags });
    // The full values, whatever the param truncation did.
    this.artifact(null, 'space.json', enc.encode(JSON.stringify(e.space ?? null, null, 2)), 'application/json');
    this.artifact(null, 'settings.json', enc.encode(JSON.stringify(e.settings, null, 2)), 'application/json');
  }

  trialStarted(e: TrialStartedEvent): void {
    const s = this.current('trialStarted');
    checkId('trialId', e.trialId);
    const params = Object.entries(e.params).map(([k, v]) => param(k, v));
    const tags: KeyValue[] = [
      tag(TAG.studyId, s.studyId),
      tag(TAG.trialId, e.trialId),
      tag(TAG.kind, 'trial'),
      tag('tunelab.trial_number', String(e.number)),
      tag('tunelab.seed', String(e.seed)),
      tag('tunelab.model', e.model),
      tag('tunelab.dataset_hash', e.datasetHash),
      tag('tunelab.version', this.version),
      tag('mlflow.source.name', 'tunelab'),
    ];
    this.outbox.enqueue({
      type: 'start-trial',
      studyId: s.studyId,
      experimentName: s.experimentName,
      trialId: e.trialId,
      runName: `trial-${e.number}`,
      startTime: e.startTime ?? Date.now(),
      params,
      tags,
    });
  }

  trialMetrics(trialId: string, metrics: readonly MetricPoint[]): void {
    const s = this.current('trialMetrics');
    if (metrics.length === 0) return;
    this.outbox.enqueue({ type: 'metrics', studyId: s.studyId, experimentName: s.experimentName, trialId, metrics: toMetrics(metrics) });
  }

  trialEnded(trialId: string, e: TrialEndedEvent): void {
    const s = this.current('trialEnded');
    const tags: KeyValue[] = [tag('tunelab.state', e.state)];
    if (e.state === 'failed') tags.push(tag('tunelab.failure_reason', e.reason ?? 'unknown'));
    else if (e.reason !== undefined) tags.push(tag('tunelab.end_reason', e.reason));
    this.outbox.enqueue({ type: 'end-run', studyId: s.studyId, experimentName: s.experimentName, trialId, status: RUN_STATUS[e.state], endTime: e.endTime ?? Date.now(), tags });
  }

  studyMetrics(metrics: readonly MetricPoint[]): void {
    const s = this.current('studyMetrics');
    if (metrics.length === 0) return;
    this.outbox.enqueue({ type: 'metrics', studyId: s.studyId, experimentName: s.experimentName, trialId: null, metrics: toMetrics(metrics) });
  }

  studyArtifact(name: string, bytes: Uint8Array, contentType: string): void {
    this.current('studyArtifact');
    this.artifact(null, name, bytes, contentType);
  }

  studyArtifactRef(name: string, ref: string, contentType: string): void {
    const s = this.current('studyArtifactRef');
    this.outbox.enqueue({ type: 'artifact', studyId: s.studyId, experimentName: s.experimentName, trialId: null, path: name, contentType, data: { ref } });
  }

  studyEnded(state: StudyEndState, endTime?: number): void {
    const s = this.current('studyEnded');
    this.outbox.enqueue({
      type: 'end-run',
      studyId: s.studyId,
      experimentName: s.experimentName,
      trialId: null,
      status: STUDY_STATUS[state],
      endTime: endTime ?? Date.now(),
      tags: [tag('tunelab.state', state)],
    });
  }

  stats(): OutboxStats {
    return this.outbox.stats();
  }

  flush(timeoutMs: number): Promise<FlushResult> {
    return this.outbox.flush(timeoutMs);
  }

  close(timeoutMs = 0): Promise<FlushResult> {
    return this.outbox.close(timeoutMs);
  }

  private artifact(trialId: string | null, name: string, bytes: Uint8Array, contentType: string): void {
    const s = this.current('artifact');
    this.outbox.enqueue({ type: 'artifact', studyId: s.studyId, experimentName: s.experimentName, trialId, path: name, contentType, data: { base64: bytesToBase64(bytes) } });
  }
}

/** For runs without a tracking server: every event is ignored. */
export class NoopTracker implements StudyTracker {
  studyStarted(): void {}
  trialStarted(): void {}
  trialMetrics(): void {}
  trialEnded(): void {}
  studyMetrics(): void {}
  studyArtifact(): void {}
  studyArtifactRef(): void {}
  studyEnded(): void {}
  stats(): OutboxStats {
    return { pending: 0, delivered: 0, dropped: 0, attempt: 0, lastError: null };
  }
  flush(): Promise<FlushResult> {
    return Promise.resolve({ ...this.stats(), drained: true });
  }
  close(): Promise<FlushResult> {
    return this.flush();
  }
}
