// Typed client for the MLflow tracking REST API (2.0 endpoints, as served by `mlflow server` 2.x/3.x).
// Uses the global fetch only, so it runs unchanged in Node 20, browsers and Workers. Every call has a
// timeout (AbortController) and fails with an MlflowError that names the call and quotes the server.

import { bytesToBase64 } from './base64.ts';

/** Server-side limits (mlflow/utils/validation.py); longer values are truncated by us, not rejected. */
export const MLFLOW_LIMITS = {
  metricsPerBatch: 1000,
  paramsTagsPerBatch: 100,
  entitiesPerBatch: 1000,
  paramValueLength: 6000,
  tagValueLength: 8000,
  keyLength: 250,
  experimentNameLength: 500,
} as const;

export type MlflowAuth =
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string };

export interface MlflowClientOptions {
  /** Tracking server root, e.g. `http://127.0.0.1:5000` or `https://host/mlflow` (a path prefix is kept). */
  readonly baseUrl: string;
  readonly auth?: MlflowAuth;
  /** Per-request limit for JSON calls, ms (default 15 000). */
  readonly timeoutMs?: number;
  /** Per-request limit for artifact uploads, ms (default 600 000: model files are hundreds of MB). */
  readonly artifactTimeoutMs?: number;
  /** Replaces the global fetch (e.g. a proxying fetch); defaults to globalThis.fetch. */
  readonly fetch?: typeof fetch;
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

/** MLflow's JSON encodes non-finite doubles as these strings. */
export type MetricValue = number | 'NaN' | 'Infinity' | '-Infinity';

export interface Metric {
  readonly key: string;
  readonly value: MetricValue;
  /** Unix epoch, ms. */
  readonly timestamp: number;
  readonly step: number;
}

export interface Experiment {
  readonly experiment_id: string;
  readonly name: string;
  readonly artifact_location?: string;
  readonly lifecycle_stage?: string;
}

export interface RunInfo {
  readonly run_id: string;
  readonly experiment_id: string;
  readonly run_name?: string;
  readonly status: RunStatus;
  readonly start_time?: number;
  readonly end_time?: number;
  readonly artifact_uri?: string;
  readonly lifecycle_stage?: string;
}

export interface Run {
  readonly info: RunInfo;
  readonly data: {
    readonly metrics?: readonly Metric[];
    readonly params?: readonly KeyValue[];
    readonly tags?: readonly KeyValue[];
  };
}

export interface FileInfo {
  readonly path: string;
  readonly is_dir: boolean;
  readonly file_size?: number;
}

export type MlflowErrorKind = 'http' | 'network' | 'timeout' | 'aborted' | 'protocol';

/** A failed call: which call, what the server (or the network) said, and whether a retry can help. */
export class MlflowError extends Error {
  override readonly name = 'MlflowError';
  constructor(
    message: string,
    readonly call: string,
    readonly kind: MlflowErrorKind,
    /** HTTP status, when the server answered. */
    readonly status: number | null,
    /** MLflow's `error_code` (e.g. RESOURCE_DOES_NOT_EXIST), when the server sent one. */
    readonly errorCode: string | null,
    /** Network errors, timeouts, 408/429/5xx, and 401/403 (a fixed token can deliver later). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const isNode = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status === 401 || status === 403 || status >= 500;
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}

export class MlflowClient {
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly artifactTimeoutMs: number;
  private readonly authHeader: string | null;
  private readonly fetchFn: typeof fetch;

  constructor(options: MlflowClientOptions) {
    let protocol = '';
    try {
      protocol = new URL(options.baseUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new Error(`MLflow URL ${JSON.stringify(options.baseUrl)} must be an http(s) URL such as http://127.0.0.1:5000`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.artifactTimeoutMs = options.artifactTimeoutMs ?? 600_000;
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const auth = options.auth;
    if (!auth) this.authHeader = null;
    else if (auth.kind === 'bearer') this.authHeader = `Bearer ${auth.token}`;
    else this.authHeader = `Basic ${bytesToBase64(new TextEncoder().encode(`${auth.username}:${auth.password}`))}`;
  }

  // ---- experiments ----

  /** The experiment with this name, or null when none exists (also for a deleted one). */
  async getExperimentByName(name: string, signal?: AbortSignal): Promise<Experiment | null> {
    try {
      const r = await this.json<{ experiment: Experiment }>('GET', 'experiments/get-by-name', { experiment_name: name }, signal);
      return r.experiment.lifecycle_stage === 'deleted' ? null : r.experiment;
    } catch (e) {
      if (e instanceof MlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST') return null;
      throw e;
    }
  }

  async createExperiment(name: string, tags: readonly KeyValue[] = [], signal?: AbortSignal): Promise<string> {
    const r = await this.json<{ experiment_id: string }>('POST', 'experiments/create', { name, tags }, signal);
    return r.experiment_id;
  }

  /** Get-by-name, else create; a concurrent create by someone else is resolved by reading again. */
  async getOrCreateExperiment(name: string, signal?: AbortSignal, tags: readonly KeyValue[] = []): Promise<string> {
    const found = await this.getExperimentByName(name, signal);
    if (found) return found.experiment_id;
    try {
      return await this.createExperiment(name, tags, signal);
    } catch (e) {
      if (e instanceof MlflowError && e.errorCode === 'RESOURCE_ALREADY_EXISTS') {
        const again = await this.getExperimentByName(name, signal);
        if (again) return again.experiment_id;
      }
      throw e;
    }
  }

  // ---- runs ----

  async createRun(
    req: { experimentId: string; runName?: string; startTime: number; tags: readonly KeyValue[] },
    signal?: AbortSignal,
  ): Promise<RunInfo> {
    const body: Record<string, unknown> = { experiment_id: req.experimentId, start_time: req.startTime, tags: req.tags };
    if (req.runName !== undefined) body['run_name'] = req.runName;
    const r = await this.json<{ run: Run }>('POST', 'runs/create', body, signal);
    return r.run.info;
  }

  async getRun(runId: string, signal?: AbortSignal): Promise<Run> {
    const r = await this.json<{ run: Run }>('GET', 'runs/get', { run_id: runId }, signal);
    return r.run;
  }

  /** One page of runs. `filter` uses MLflow's search syntax, e.g. tags.`tunelab.trial_id` = 'abc'. */
  async searchRuns(
    req: {
      experimentIds: readonly string[];
      filter?: string;
      maxResults?: number;
      orderBy?: readonly string[];
      runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
      pageToken?: string;
    },
    signal?: AbortSignal,
  ): Promise<{ runs: Run[]; nextPageToken: string | null }> {
    const body: Record<string, unknown> = {
      experiment_ids: req.experimentIds,
      max_results: req.maxResults ?? 1000,
      run_view_type: req.runViewType ?? 'ACTIVE_ONLY',
    };
    if (req.filter !== undefined) body['filter'] = req.filter;
    if (req.orderBy !== undefined) body['order_by'] = req.orderBy;
    if (req.pageToken !== undefined) body['page_token'] = req.pageToken;
    const r = await this.json<{ runs?: Run[]; next_page_token?: string }>('POST', 'runs/search', body, signal);
    return { runs: r.runs ?? [], nextPageToken: r.next_page_token ?? null };
  }

  /** Every matching run, following page tokens. */
  async searchAllRuns(
    req: { experimentIds: readonly string[]; filter?: string; runViewType?: 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL' },
    signal?: AbortSignal,
  ): Promise<Run[]> {
    const out: Run[] = [];
    let pageToken: string | null = null;
    do {
      const page: { runs: Run[]; nextPageToken: string | null } = await this.searchRuns(
        pageToken === null ? { ...req } : { ...req, pageToken },
        signal,
      );
      out.push(...page.runs);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  async updateRun(runId: string, update: { status: RunStatus; endTime?: number; runName?: string }, signal?: AbortSignal): Promise<RunInfo> {
    const body: Record<string, unknown> = { run_id: runId, status: update.status };
    if (update.endTime !== undefined) body['end_time'] = update.endTime;
    if (update.runName !== undefined) body['run_name'] = update.runName;
    const r = await this.json<{ run_info: RunInfo }>('POST', 'runs/update', body, signal);
    return r.run_info;
  }

  /** One log-batch request; the caller keeps within MLFLOW_LIMITS (see chunkBatch). */
  async logBatch(
    runId: string,
    batch: { metrics?: readonly Metric[]; params?: readonly KeyValue[]; tags?: readonly KeyValue[] },
    signal?: AbortSignal,
  ): Promise<void> {
    await this.json('POST', 'runs/log-batch', { run_id: runId, metrics: batch.metrics ?? [], params: batch.params ?? [], tags: batch.tags ?? [] }, signal);
  }

  async setTag(runId: string, key: string, value: string, signal?: AbortSignal): Promise<void> {
    await this.json('POST', 'runs/set-tag', { run_id: runId, key, value }, signal);
  }

  /** The full history of one metric (all steps), following page tokens. */
  async getMetricHistory(runId: string, metricKey: string, signal?: AbortSignal): Promise<Metric[]> {
    const out: Metric[] = [];
    let pageToken: string | null = null;
    do {
      const query: Record<string, string> = { run_id: runId, metric_key: metricKey, max_results: '25000' };
      if (pageToken) query['page_token'] = pageToken;
      const r: { metrics?: Metric[]; next_page_token?: string } = await this.json('GET', 'metrics/get-history', query, signal);
      out.push(...(r.metrics ?? []));
      pageToken = r.next_page_token ?? null;
    } while (pageToken);
    return out;
  }

  // ---- artifacts ----

  /**
   * Uploads one file under a run's artifact root through the server's artifact proxy
   * (`mlflow server` serves artifacts by default). `artifactUri` is the run's `artifact_uri`.
   */
  async uploadArtifact(artifactUri: string, path: string, bytes: Uint8Array | Blob, contentType: string, signal?: AbortSignal): Promise<void> {
    const call = `upload artifact ${path}`;
    const root = proxiedArtifactPath(artifactUri, call);
    const rel = path.split('/').filter((s) => s.length > 0);
    if (rel.length === 0 || rel.some((s) => s === '.' || s === '..')) {
      throw new MlflowError(`${call}: artifact path ${JSON.stringify(path)} must be a relative path without . or ..`, call, 'protocol', null, null, false);
    }
    const url = `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${[...root, ...rel].map(encodeURIComponent).join('/')}`;
    await this.request(call, url, { method: 'PUT', headers: { 'Content-Type': contentType }, body: bytes as BodyInit }, this.artifactTimeoutMs, signal);
  }

  /** Files directly under `path` (run-relative) of a run's artifacts. */
  async listArtifacts(runId: string, path?: string, signal?: AbortSignal): Promise<FileInfo[]> {
    const query: Record<string, string> = { run_id: runId };
    if (path !== undefined) query['path'] = path;
    const r = await this.json<{ files?: FileInfo[] }>('GET', 'artifacts/list', query, signal);
    return r.files ?? [];
  }

  /** Downloads one artifact file of a run through the proxy. */
  async downloadArtifact(artifactUri: string, path: string, signal?: AbortSignal): Promise<Uint8Array> {
    const call = `download artifact ${path}`;
    const root = proxiedArtifactPath(artifactUri, call);
    const url = `${this.baseUrl}/api/2.0/mlflow-artifacts/artifacts/${[...root, ...path.split('/')].map(encodeURIComponent).join('/')}`;
    const res = await this.request(call, url, { method: 'GET' }, this.artifactTimeoutMs, signal);
    return new Uint8Array(await res.arrayBuffer());
  }

  // ---- transport ----

  private async json<T = unknown>(method: 'GET' | 'POST', endpoint: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<T> {
    const call = `${method} ${endpoint}`;
    let url = `${this.baseUrl}/api/2.0/mlflow/${endpoint}`;
    const init: RequestInit = { method };
    if (method === 'GET') {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) q.set(k, String(v));
      url += `?${q.toString()}`;
    } else {
      init.headers = { 'Content-Type': 'application/json' };
      init.body = JSON.stringify(params);
    }
    const res = await this.request(call, url, init, this.timeoutMs, signal);
    const text = await res.text();
    if (text.trim() === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new MlflowError(`${call}: the server answered ${res.status} with non-JSON: ${text.slice(0, 200)}`, call, 'protocol', res.status, null, false);
    }
  }

  private async request(call: string, url: string, init: RequestInit, timeoutMs: number, outer?: AbortSignal): Promise<Response> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onOuterAbort = (): void => controller.abort();
    if (outer) {
      if (outer.aborted) controller.abort();
      else outer.addEventListener('abort', onOuterAbort, { once: true });
    }
    const headers = new Headers(init.headers);
    if (this.authHeader) headers.set('Authorization', this.authHeader);
    try {
      let res: Response;
      try {
        res = await this.fetchFn(url, { ...init, headers, signal: controller.signal });
      } catch (e) {
        if (timedOut) {
          throw new MlflowError(`${call}: no answer from ${this.baseUrl} within ${timeoutMs} ms`, call, 'timeout', null, null, true, { cause: e });
        }
        if (controller.signal.aborted) throw new MlflowError(`${call}: aborted`, call, 'aborted', null, null, true, { cause: e });
        const hint = isNode
          ? ''
          : ` (in a browser this is most often a CORS refusal: start the server with --cors-allowed-origins ${globalThis.location?.origin ?? '<this page origin>'}, or it is unreachable)`;
        throw new MlflowError(`${call}: cannot reach ${this.baseUrl}: ${describeCause(e)}${hint}`, call, 'network', null, null, true, { cause: e });
      }
      if (!res.ok) {
        let body = '';
        try {
          body = await res.text();
        } catch {
          // the body is only used for the message
        }
        let code: string | null = null;
        let message = body.slice(0, 500);
        try {
          const parsed = JSON.parse(body) as { error_code?: unknown; message?: unknown };
          if (typeof parsed.error_code === 'string') code = parsed.error_code;
          if (typeof parsed.message === 'string') message = parsed.message;
        } catch {
          // not JSON (a proxy's HTML page): keep the raw text
        }
        const auth = res.status === 401 || res.status === 403 ? ' (check the MLflow token or user/password)' : '';
        throw new MlflowError(
          `${call}: server answered ${res.status}${code ? ` ${code}` : ''}: ${message}${auth}`,
          call,
          'http',
          res.status,
          code,
          retryableStatus(res.status),
        );
      }
      return res;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuterAbort);
    }
  }
}

/**
 * Path segments of a run's artifact root under the server's artifact proxy.
 * `mlflow-artifacts:/1/<run>/artifacts` and `mlflow-artifacts://host:port/1/<run>/artifacts` both map to
 * `1/<run>/artifacts`; any other scheme (file:, s3:) means the server does not proxy this run's artifacts.
 */
export function proxiedArtifactPath(artifactUri: string, call = 'artifact'): string[] {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(artifactUri);
  if (!m) {
    throw new MlflowError(
      `${call}: the run's artifact root ${artifactUri} is not served by the tracking server; start it with artifact serving ` +
        `(the default for \`mlflow server\`, with --artifacts-destination) and use a new experiment`,
      call,
      'protocol',
      null,
      null,
      false,
    );
  }
  return (m[1] ?? '').split('/').filter((s) => s.length > 0);
}

/** Splits log-batch content into requests within MLflow's per-request limits. */
export function chunkBatch(batch: { metrics?: readonly Metric[]; params?: readonly KeyValue[]; tags?: readonly KeyValue[] }): {
  metrics: Metric[];
  params: KeyValue[];
  tags: KeyValue[];
}[] {
  const metrics = [...(batch.metrics ?? [])];
  const params = [...(batch.params ?? [])];
  const tags = [...(batch.tags ?? [])];
  const out: { metrics: Metric[]; params: KeyValue[]; tags: KeyValue[] }[] = [];
  while (metrics.length > 0 || params.length > 0 || tags.length > 0) {
    const p = params.splice(0, MLFLOW_LIMITS.paramsTagsPerBatch);
    const t = tags.splice(0, MLFLOW_LIMITS.paramsTagsPerBatch);
    const room = Math.min(MLFLOW_LIMITS.metricsPerBatch, MLFLOW_LIMITS.entitiesPerBatch - p.length - t.length);
    out.push({ metrics: metrics.splice(0, room), params: p, tags: t });
  }
  return out;
}

/** Truncates to MLflow's limit, marking the cut so nobody mistakes it for the whole value. */
export function truncateValue(value: string, limit: number): string {
  if (value.length <= limit) return value;
  const mark = '...[truncated]';
  return value.slice(0, limit - mark.length) + mark;
}

/** Encodes a number the way MLflow's JSON expects (JSON.stringify would turn NaN into null). */
export function toMetricValue(x: number): MetricValue {
  if (Number.isFinite(x)) return x;
  if (Number.isNaN(x)) return 'NaN';
  return x > 0 ? 'Infinity' : '-Infinity';
}
