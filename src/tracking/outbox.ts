// Persistent outbox of tracking operations: training enqueues (synchronous, local persistence only) and
// a background flusher delivers in FIFO order with capped exponential backoff. Operations name TuneLab
// study/trial ids, never MLflow ids, so any of them can be replayed after a crash or by a later process
// (the sender resolves ids by tag search and creates runs only when none exists).
//
// Storage is behind OutboxStore: a JSON-lines file in Node (src/cli/file-outbox.ts), memory here,
// IndexedDB later.

import type { KeyValue, Metric, RunStatus } from './mlflow-client.ts';
import { MlflowError, MLFLOW_LIMITS } from './mlflow-client.ts';

interface OpBase {
  readonly studyId: string;
  /** The experiment the study's runs live in (named after the study). */
  readonly experimentName: string;
}

/** What the outbox delivers. `trialId: null` targets the study's parent run. */
export type TrackingOp =
  | (OpBase & { readonly type: 'start-study'; readonly runName: string; readonly startTime: number; readonly params: readonly KeyValue[]; readonly tags: readonly KeyValue[] })
  | (OpBase & {
      readonly type: 'start-trial';
      readonly trialId: string;
      readonly runName: string;
      readonly startTime: number;
      readonly params: readonly KeyValue[];
      readonly tags: readonly KeyValue[];
    })
  | (OpBase & { readonly type: 'metrics'; readonly trialId: string | null; readonly metrics: readonly Metric[] })
  | (OpBase & {
      readonly type: 'end-run';
      readonly trialId: string | null;
      readonly status: RunStatus;
      readonly endTime: number;
      readonly tags: readonly KeyValue[];
      /** Final metrics of the run, sent in the same log-batch as the tags (the outbox merges them in). */
      readonly metrics?: readonly Metric[];
    })
  | (OpBase & {
      readonly type: 'artifact';
      readonly trialId: string | null;
      /** Run-relative artifact path, e.g. `report.json` or `model/model.safetensors`. */
      readonly path: string;
      readonly contentType: string;
      /** Small files inline (base64); large ones by a reference that the sender's resolveArtifact reads. */
      readonly data: { readonly base64: string } | { readonly ref: string };
    });

export const TRACKING_OP_TYPES: readonly TrackingOp['type'][] = ['start-study', 'start-trial', 'metrics', 'end-run', 'artifact'];

export interface OutboxEntry {
  /** Increasing per store; acks name entries by seq. */
  readonly seq: number;
  /** Unix epoch ms when enqueued. */
  readonly enqueuedAt: number;
  readonly op: TrackingOp;
}

/**
 * Durable FIFO of entries. Methods may be synchronous (file) or return a promise (IndexedDB); the outbox
 * serializes calls. One store per process at a time.
 */
export interface OutboxStore {
  /** Entries not yet acknowledged, oldest first. Called once, when the outbox opens. */
  load(): OutboxEntry[] | Promise<OutboxEntry[]>;
  append(entry: OutboxEntry): void | Promise<void>;
  /** Marks entries done (delivered, or dropped after a permanent error); they never come back from load. */
  ack(seqs: readonly number[]): void | Promise<void>;
  close?(): void | Promise<void>;
}

/** In-memory store: for the browser until IndexedDB lands, and for tests of the outbox itself. */
export class MemoryOutboxStore implements OutboxStore {
  private entries: OutboxEntry[] = [];
  load(): OutboxEntry[] {
    return [...this.entries];
  }
  append(entry: OutboxEntry): void {
    this.entries.push(entry);
  }
  ack(seqs: readonly number[]): void {
    const done = new Set(seqs);
    this.entries = this.entries.filter((e) => !done.has(e.seq));
  }
}

export interface SendContext {
  /**
   * True when this process has tried these operations before (a retry): an earlier attempt may have
   * been applied although its answer was lost. Attempts by an earlier process are not counted: the
   * sender learns about those by listing the study's runs once per process (one writer per study).
   */
  readonly maybeSentBefore: boolean;
}

/** Delivers one operation; throws MlflowError (retryable or not) on failure. */
export type OpSender = (op: TrackingOp, signal: AbortSignal, context: SendContext) => Promise<void>;

export interface OutboxOptions {
  readonly store: OutboxStore;
  readonly send: OpSender;
  /** First retry delay, ms (default 500); doubles per failed attempt up to maxDelayMs (default 30 000). */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** How long new work waits before sending so that metric events coalesce into one request, ms (default 200). */
  readonly lingerMs?: number;
  /** Every failed delivery attempt; `willRetry: false` means the operation was dropped. */
  readonly onError?: (error: unknown, info: { readonly willRetry: boolean; readonly attempt: number; readonly op: TrackingOp }) => void;
}

export interface OutboxStats {
  readonly pending: number;
  readonly delivered: number;
  /** Operations given up after a permanent error (bad request, unknown run). */
  readonly dropped: number;
  /** Consecutive failed attempts on the head of the queue. */
  readonly attempt: number;
  readonly lastError: string | null;
}

export interface FlushResult extends OutboxStats {
  /** True when nothing is pending any more. */
  readonly drained: boolean;
}

/** Attempts after which an error that is not an MlflowError (a bug, not the server) drops the operation. */
const UNKNOWN_ERROR_ATTEMPTS = 5;

/**
 * Non-retryable MlflowErrors (400, 404, a missing run) drop the operation at once; network errors,
 * timeouts, 5xx and 401/403 are retried for as long as the outbox lives (and after, by a later process).
 */
function isPermanent(error: unknown, attempt: number): boolean {
  if (error instanceof MlflowError) return !error.retryable && error.kind !== 'aborted';
  return attempt >= UNKNOWN_ERROR_ATTEMPTS;
}

export class Outbox {
  private readonly queue: OutboxEntry[];
  private nextSeq: number;
  private readonly opts: OutboxOptions;
  private storeChain: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private idle = false;
  private urgent = 0;
  private closed = false;
  private inFlight: AbortController | null = null;
  private readonly loop: Promise<void>;
  private readonly idleWaiters = new Set<() => void>();
  private delivered = 0;
  private dropped = 0;
  private attempt = 0;
  private lastError: string | null = null;
  /** Entries this process has tried to send and not yet finished. */
  private readonly maybeSent = new Set<number>();

  private constructor(opts: OutboxOptions, loaded: OutboxEntry[]) {
    this.opts = opts;
    this.queue = [...loaded].sort((a, b) => a.seq - b.seq);
    this.nextSeq = this.queue.reduce((m, e) => Math.max(m, e.seq + 1), 1);
    this.loop = this.run();
  }

  /** Loads what an earlier process left pending and starts delivering it. */
  static async open(opts: OutboxOptions): Promise<Outbox> {
    const loaded = await opts.store.load();
    return new Outbox(opts, loaded);
  }

  /** Queues one operation; returns at once (the file store has written it by then). Never touches the network. */
  enqueue(op: TrackingOp): void {
    if (this.closed) throw new Error(`tracking outbox is closed; cannot enqueue ${op.type} for study ${op.studyId}`);
    const entry: OutboxEntry = { seq: this.nextSeq++, enqueuedAt: Date.now(), op };
    this.queue.push(entry);
    this.persist(() => this.opts.store.append(entry), op);
    // Wake only an idle flusher: a linger or backoff wait must run its course.
    if (this.idle) this.wake?.();
  }

  stats(): OutboxStats {
    return { pending: this.queue.length, delivered: this.delivered, dropped: this.dropped, attempt: this.attempt, lastError: this.lastError };
  }

  /**
   * Sends now (skipping linger and any backoff wait) and resolves when the queue is empty or after
   * timeoutMs, whichever is first. What is not delivered stays in the store.
   */
  async flush(timeoutMs: number): Promise<FlushResult> {
    if (this.queue.length > 0 && !this.closed) {
      this.urgent++;
      this.wake?.();
      let done: (() => void) | null = null;
      const idle = new Promise<void>((resolve) => {
        done = resolve;
        this.idleWaiters.add(resolve);
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      try {
        await Promise.race([idle, timeout]);
      } finally {
        clearTimeout(timer);
        if (done) this.idleWaiters.delete(done);
        this.urgent--;
      }
    }
    await this.storeChain;
    return { ...this.stats(), drained: this.queue.length === 0 };
  }

  /** Flushes for up to timeoutMs, then stops the flusher (aborting a request in flight). Pending entries stay stored. */
  async close(timeoutMs = 0): Promise<FlushResult> {
    const result = timeoutMs > 0 ? await this.flush(timeoutMs) : { ...this.stats(), drained: this.queue.length === 0 };
    this.closed = true;
    this.inFlight?.abort();
    this.wake?.();
    await this.loop;
    await this.storeChain;
    await this.opts.store.close?.();
    return { ...result, pending: this.queue.length, drained: this.queue.length === 0 };
  }

  // ---- flusher ----

  private async run(): Promise<void> {
    while (!this.closed) {
      if (this.queue.length === 0) {
        for (const w of this.idleWaiters) w();
        this.idle = true;
        await this.sleep(null);
        this.idle = false;
        continue;
      }
      const head = this.queue[0];
      if (head && head.op.type === 'metrics' && this.urgent === 0 && this.attempt === 0 && Date.now() - head.enqueuedAt < this.lingerMs) {
        await this.sleep(this.lingerMs - (Date.now() - head.enqueuedAt));
        continue;
      }
      const { op, entries } = this.takeBatch();
      const controller = new AbortController();
      this.inFlight = controller;
      const maybeSentBefore = entries.some((e) => this.maybeSent.has(e.seq));
      for (const e of entries) this.maybeSent.add(e.seq);
      try {
        await this.opts.send(op, controller.signal, { maybeSentBefore });
        this.inFlight = null;
        this.finish(entries);
        for (const e of entries) this.maybeSent.delete(e.seq);
        this.delivered += entries.length;
        this.attempt = 0;
        this.lastError = null;
      } catch (error) {
        this.inFlight = null;
        if (this.closed) break;
        this.attempt++;
        this.lastError = error instanceof Error ? error.message : String(error);
        const permanent = isPermanent(error, this.attempt);
        this.report(error, !permanent, op);
        if (permanent) {
          this.finish(entries);
          for (const e of entries) this.maybeSent.delete(e.seq);
          this.dropped += entries.length;
          this.attempt = 0;
        } else {
          await this.sleep(this.urgent > 0 && this.attempt <= 1 ? 0 : this.backoff());
        }
      }
    }
    for (const w of this.idleWaiters) w();
  }

  private get lingerMs(): number {
    return this.opts.lingerMs ?? 200;
  }

  private backoff(): number {
    const base = this.opts.baseDelayMs ?? 500;
    const max = this.opts.maxDelayMs ?? 30_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.attempt - 1, 30));
    // +-20% jitter so that many tabs/processes do not retry in lockstep after an outage.
    return exp * (0.8 + 0.4 * Math.random());
  }

  /**
   * The head operation, merged with following metric operations for the same run up to one log-batch,
   * and with that run's end-run when it comes next (its tags ride in the same log-batch).
   */
  private takeBatch(): { op: TrackingOp; entries: OutboxEntry[] } {
    const head = this.queue[0];
    if (!head) throw new Error('takeBatch on an empty outbox');
    const entries = [head];
    if (head.op.type !== 'metrics') return { op: head.op, entries };
    const { studyId, trialId } = head.op;
    const metrics = [...head.op.metrics];
    for (let i = 1; i < this.queue.length; i++) {
      const next = this.queue[i];
      if (!next || next.op.studyId !== studyId || (next.op.type !== 'metrics' && next.op.type !== 'end-run') || next.op.trialId !== trialId) break;
      if (next.op.type === 'end-run') {
        const room = Math.min(MLFLOW_LIMITS.metricsPerBatch, MLFLOW_LIMITS.entitiesPerBatch - next.op.tags.length);
        if (next.op.metrics !== undefined || next.op.tags.length > MLFLOW_LIMITS.paramsTagsPerBatch || metrics.length > room) break;
        entries.push(next);
        return { op: { ...next.op, metrics }, entries };
      }
      if (metrics.length + next.op.metrics.length > MLFLOW_LIMITS.metricsPerBatch) break;
      metrics.push(...next.op.metrics);
      entries.push(next);
    }
    return { op: { ...head.op, metrics }, entries };
  }

  private finish(entries: OutboxEntry[]): void {
    this.queue.splice(0, entries.length);
    const seqs = entries.map((e) => e.seq);
    this.persist(() => this.opts.store.ack(seqs), entries[0]?.op ?? null);
  }

  /** Runs store calls in order; synchronous stores run inline so that enqueue returns only once written. */
  private persist(fn: () => void | Promise<void>, op: TrackingOp | null): void {
    const onFail = (e: unknown): void => {
      this.report(new Error(`tracking outbox store failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e }), true, op);
    };
    if (this.storeChain === null) {
      try {
        const r = fn();
        if (r instanceof Promise) this.storeChain = r.catch(onFail);
      } catch (e) {
        onFail(e);
      }
      return;
    }
    const chained: Promise<void> = this.storeChain.then(fn).catch(onFail);
    this.storeChain = chained;
    // Once the chain has caught up, go back to calling synchronous stores inline.
    void chained.then(() => {
      if (this.storeChain === chained) this.storeChain = null;
    });
  }

  private report(error: unknown, willRetry: boolean, op: TrackingOp | null): void {
    if (!op || !this.opts.onError) return;
    try {
      this.opts.onError(error, { willRetry, attempt: this.attempt, op });
    } catch {
      // a broken error handler must not stop delivery
    }
  }

  /** Waits ms (null: until woken); enqueue, flush and close wake it early. */
  private sleep(ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      this.wake = done;
      if (ms !== null) {
        timer = setTimeout(done, Math.max(0, ms));
        // A backoff timer alone must not keep a Node process alive; callers flush/close explicitly.
        (timer as { unref?: () => void }).unref?.();
      }
    });
  }
}
