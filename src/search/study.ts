// The study state machine. A study hands out trials (ask), hears intermediate values (reportIntermediate, which
// consults the pruner) and final results (tell). Its whole state is one JSON-serialisable value with a version field;
// every change replaces it and calls `onChange` with the new state, so a StudyStore can persist each change atomically.
//
// Trial lifecycle: pending -> running -> complete | pruned | failed. A pending trial is one re-queued after a resume
// (it was running when the state was saved, so it never finished): it is handed out again, with the same id and
// params, before anything new. Complete, pruned and failed trials are final and never run again.
// Order of new trials: re-queued ones, then enqueued configurations (partial ones are completed by the sampler),
// then the sampler. Budgets: maxTrials counts every trial created; maxWallMinutes counts time the study was live
// (summed over sessions, so a crash and resume days later does not eat the budget).

import { AshaPruner, MedianPruner, NopPruner, type Direction, type IntermediateValue, type Pruner, type PrunerTrial } from './pruner.ts';
import { RandomSampler } from './random.ts';
import type { Sampler, SamplerTrial, TrialState } from './sampler.ts';
import { checkParams, DEFAULT_SEARCH_SPACE_JSON, parseSearchSpace, searchSpaceToJSON, SearchSpaceError, type ParseSearchSpaceOptions, type ParamValue, type Params, type SearchSpace, type SearchSpaceJSON } from './space.ts';
import { TpeSampler } from './tpe.ts';

export const STUDY_STATE_VERSION = 1;

export const FAILURE_REASONS = ['diverged', 'out-of-memory', 'device-lost', 'invalid-config', 'data', 'error'] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
export const TRIAL_STATES = ['pending', 'running', 'complete', 'pruned', 'failed'] as const;
export type { TrialState };

export interface TrialFailure {
  readonly reason: FailureReason;
  readonly message: string;
}

export interface TrialRecord {
  /** 0-based, in order of creation. */
  readonly id: number;
  readonly params: Params;
  readonly source: 'enqueued' | 'sampler';
  readonly state: TrialState;
  /** How many times it was handed out (> 1 after a resume re-queued it). */
  readonly attempts: number;
  /** Metric per evaluation step, steps increasing. */
  readonly intermediate: readonly IntermediateValue[];
  /** Final metric (complete), or the last intermediate value (pruned). */
  readonly value?: number;
  readonly failure?: TrialFailure;
  /** Clock times in ms (the study's clock; Date.now by default). */
  readonly startedAtMs?: number;
  readonly finishedAtMs?: number;
}

export type SamplerConfig =
  | { readonly kind: 'tpe'; readonly seed: number; readonly nStartupJobs?: number; readonly gamma?: number; readonly nEiCandidates?: number; readonly priorWeight?: number }
  | { readonly kind: 'random'; readonly seed: number };

export type PrunerConfig =
  | { readonly kind: 'none' }
  | { readonly kind: 'median'; readonly nStartupTrials?: number; readonly nWarmupSteps?: number }
  | { readonly kind: 'asha'; readonly minResource?: number; readonly reductionFactor?: number; readonly minEarlyStoppingRate?: number };

export interface StudyBudget {
  readonly maxTrials?: number;
  readonly maxWallMinutes?: number;
}

export interface StudyState {
  readonly version: typeof STUDY_STATE_VERSION;
  readonly name: string;
  /** What the value is, e.g. "validation accuracy". */
  readonly metric: string;
  readonly direction: Direction;
  readonly space: SearchSpaceJSON;
  /** Whether the space may hold names the engine does not know (benchmarks, other objectives). */
  readonly allowUnknownParameters: boolean;
  readonly sampler: SamplerConfig;
  readonly pruner: PrunerConfig;
  readonly budget: StudyBudget;
  /** Configurations to try before the sampler's, in order. */
  readonly queue: readonly Params[];
  readonly trials: readonly TrialRecord[];
  /** Live time summed over sessions. */
  readonly elapsedMs: number;
  readonly createdAtMs: number;
}

/** Loads and saves a whole study state; save must be atomic (after a crash, load returns the old or the new state). */
export interface StudyStore {
  load(): Promise<StudyState | undefined>;
  save(state: StudyState): Promise<void>;
}

/** Keeps the state in memory as JSON text (tests, and a browser fallback when IndexedDB is unavailable). */
export class MemoryStudyStore implements StudyStore {
  private text: string | undefined;
  load(): Promise<StudyState | undefined> {
    return Promise.resolve(this.text === undefined ? undefined : parseStudyState(JSON.parse(this.text)));
  }
  save(state: StudyState): Promise<void> {
    this.text = JSON.stringify(state);
    return Promise.resolve();
  }
}

export interface TrialRequest {
  readonly trialId: number;
  readonly params: Params;
  readonly attempt: number;
  readonly source: 'enqueued' | 'sampler';
}

export type TrialResult =
  | { readonly state: 'complete'; readonly value: number }
  | { readonly state: 'pruned' }
  | { readonly state: 'failed'; readonly reason: FailureReason; readonly message?: string };

export interface CreateStudyOptions {
  readonly name: string;
  readonly space?: SearchSpaceJSON;
  readonly metric?: string;
  readonly direction?: Direction;
  readonly sampler?: SamplerConfig;
  readonly pruner?: PrunerConfig;
  readonly budget?: StudyBudget;
  readonly allowUnknownParameters?: boolean;
}

export interface StudyDeps {
  /** ms clock (default Date.now). */
  readonly now?: () => number;
  /** Called with every new state, after it replaced the old one. */
  readonly onChange?: (state: StudyState) => void;
}

export function createSampler(space: SearchSpace, config: SamplerConfig): Sampler {
  if (config.kind === 'random') return new RandomSampler(space, { seed: config.seed });
  const { kind: _kind, ...options } = config;
  return new TpeSampler(space, options);
}

export function createPruner(config: PrunerConfig, direction: Direction): Pruner {
  switch (config.kind) {
    case 'none':
      return new NopPruner();
    case 'median': {
      const { kind: _kind, ...options } = config;
      return new MedianPruner({ ...options, direction });
    }
    case 'asha': {
      const { kind: _kind, ...options } = config;
      return new AshaPruner({ ...options, direction });
    }
  }
}

export class Study {
  private current: StudyState;
  readonly space: SearchSpace;
  private readonly sampler: Sampler;
  private readonly pruner: Pruner;
  private readonly now: () => number;
  private readonly onChange: ((state: StudyState) => void) | undefined;
  private readonly sessionStartMs: number;
  private readonly sessionBaseMs: number;

  private constructor(state: StudyState, deps: StudyDeps) {
    this.now = deps.now ?? Date.now;
    this.onChange = deps.onChange;
    this.space = parseSearchSpace(state.space, `study "${state.name}": space`, spaceOptions(state));
    this.sampler = createSampler(this.space, state.sampler);
    this.pruner = createPruner(state.pruner, state.direction);
    this.current = state;
    this.sessionStartMs = this.now();
    this.sessionBaseMs = state.elapsedMs;
  }

  /** A new, empty study (the default space, TPE with seed 0, median pruning, maximising validation accuracy). */
  static create(options: CreateStudyOptions, deps: StudyDeps = {}): Study {
    const allowUnknown = options.allowUnknownParameters ?? false;
    const spaceJson = options.space ?? DEFAULT_SEARCH_SPACE_JSON;
    // validate now so a bad space fails at creation with the caller's wording
    const space = parseSearchSpace(spaceJson, 'search space', { allowUnknown });
    const now = deps.now ?? Date.now;
    const state: StudyState = {
      version: STUDY_STATE_VERSION,
      name: options.name,
      metric: options.metric ?? 'validation accuracy',
      direction: options.direction ?? 'maximize',
      space: searchSpaceToJSON(space),
      allowUnknownParameters: allowUnknown,
      sampler: options.sampler ?? { kind: 'tpe', seed: 0 },
      pruner: options.pruner ?? { kind: 'median' },
      budget: options.budget ?? {},
      queue: [],
      trials: [],
      elapsedMs: 0,
      createdAtMs: now(),
    };
    checkBudget(state.budget, 'study options: budget');
    return new Study(state, deps);
  }

  /**
   * A study from a saved state (validated; errors name the field). Trials found running are re-queued as pending:
   * they never finished, so they run again (same id and params, attempts + 1 when handed out); their intermediate
   * values are dropped. The re-queue is applied to `state` but not announced through onChange: save after loading.
   */
  static fromJSON(json: unknown, deps: StudyDeps = {}): Study {
    const parsed = parseStudyState(json);
    const trials = parsed.trials.map((t): TrialRecord => (t.state === 'running' ? requeued(t) : t));
    return new Study({ ...parsed, trials }, deps);
  }

  get state(): StudyState {
    return this.current;
  }

  toJSON(): StudyState {
    return this.current;
  }

  get trials(): readonly TrialRecord[] {
    return this.current.trials;
  }

  /** Live time so far (ms), over all sessions. */
  elapsedMs(): number {
    return this.sessionBaseMs + (this.now() - this.sessionStartMs);
  }

  /** Adds a configuration to try before sampled ones. Throws SearchSpaceError when it is invalid. */
  enqueue(params: Params): void {
    const issues = checkParams(params, this.space, `study "${this.current.name}": enqueued config`, spaceOptions(this.current));
    if (issues.length > 0) throw new SearchSpaceError(issues);
    this.commit({ ...this.current, queue: [...this.current.queue, { ...params }] });
  }

  /** Whether a budget stops new trials from starting. */
  budgetExhausted(): boolean {
    const { maxTrials, maxWallMinutes } = this.current.budget;
    if (maxWallMinutes !== undefined && this.elapsedMs() >= maxWallMinutes * 60_000) return true;
    const hasPending = this.current.trials.some((t) => t.state === 'pending');
    return maxTrials !== undefined && this.current.trials.length >= maxTrials && !hasPending;
  }

  /** True when no trial is running and ask() would give nothing. */
  isDone(): boolean {
    return this.budgetExhausted() && !this.current.trials.some((t) => t.state === 'running');
  }

  /**
   * The next trial to run, now marked running; undefined when a budget is exhausted. Re-queued trials come first
   * (they may exceed maxTrials: they were counted when created), then the enqueue() queue, then the sampler.
   */
  ask(): TrialRequest | undefined {
    const { maxWallMinutes, maxTrials } = this.current.budget;
    if (maxWallMinutes !== undefined && this.elapsedMs() >= maxWallMinutes * 60_000) return undefined;
    const pending = this.current.trials.find((t) => t.state === 'pending');
    if (pending) {
      const started: TrialRecord = { ...pending, state: 'running', attempts: pending.attempts + 1, intermediate: [], startedAtMs: this.now() };
      this.replaceTrial(started);
      return { trialId: started.id, params: started.params, attempt: started.attempts, source: started.source };
    }
    if (maxTrials !== undefined && this.current.trials.length >= maxTrials) return undefined;
    let params: Params;
    let source: TrialRecord['source'];
    let queue = this.current.queue;
    const head = queue[0];
    if (head !== undefined) {
      queue = queue.slice(1);
      source = 'enqueued';
      const missing = this.space.parameters.some((p) => !(p.name in head));
      params = missing ? { ...this.sampler.suggest(this.samplerHistory()), ...head } : head;
    } else {
      source = 'sampler';
      params = this.sampler.suggest(this.samplerHistory());
    }
    const trial: TrialRecord = { id: this.current.trials.length, params, source, state: 'running', attempts: 1, intermediate: [], startedAtMs: this.now() };
    this.commit({ ...this.current, queue, trials: [...this.current.trials, trial] });
    return { trialId: trial.id, params, attempt: 1, source };
  }

  /**
   * Records the metric at `step` and asks the pruner. A step at or below an earlier one (the trial restarted after a
   * device loss) drops the values from that step on. 'prune' is advice: the caller stops the trial and calls
   * tell(trialId, { state: 'pruned' }).
   */
  reportIntermediate(trialId: number, step: number, value: number): 'continue' | 'prune' {
    const t = this.runningTrial(trialId, 'reportIntermediate');
    if (!Number.isFinite(step) || !Number.isFinite(value)) {
      throw new RangeError(`study "${this.current.name}": trial ${trialId}: step and value must be finite (got step ${step}, value ${value}); report a diverged trial with tell(..., { state: 'failed', reason: 'diverged' })`);
    }
    const intermediate = [...t.intermediate.filter((iv) => iv.step < step), { step, value }];
    this.replaceTrial({ ...t, intermediate });
    return this.pruner.shouldPrune(trialId, step, value, this.prunerHistory()) ? 'prune' : 'continue';
  }

  /** Finishes a running trial. A complete trial needs a finite value; a pruned one keeps its last intermediate value. */
  tell(trialId: number, result: TrialResult): TrialRecord {
    const t = this.runningTrial(trialId, 'tell');
    const finishedAtMs = this.now();
    let next: TrialRecord;
    switch (result.state) {
      case 'complete':
        if (!Number.isFinite(result.value)) {
          throw new RangeError(`study "${this.current.name}": trial ${trialId}: a complete trial needs a finite value (got ${result.value}); report divergence as { state: 'failed', reason: 'diverged' }`);
        }
        next = { ...t, state: 'complete', value: result.value, finishedAtMs };
        break;
      case 'pruned': {
        const last = t.intermediate[t.intermediate.length - 1];
        next = last === undefined ? { ...t, state: 'pruned', finishedAtMs } : { ...t, state: 'pruned', value: last.value, finishedAtMs };
        break;
      }
      case 'failed':
        if (!(FAILURE_REASONS as readonly string[]).includes(result.reason)) throw new RangeError(`study "${this.current.name}": trial ${trialId}: unknown failure reason ${String(result.reason)}`);
        next = { ...t, state: 'failed', failure: { reason: result.reason, message: result.message ?? '' }, finishedAtMs };
        break;
    }
    this.replaceTrial(next);
    return next;
  }

  /** The best complete trial (earliest on ties). */
  best(): TrialRecord | undefined {
    let best: TrialRecord | undefined;
    for (const t of this.current.trials) {
      if (t.state !== 'complete' || t.value === undefined) continue;
      if (best?.value === undefined || (this.current.direction === 'maximize' ? t.value > best.value : t.value < best.value)) best = t;
    }
    return best;
  }

  /** The history as the sampler sees it: loss = -value when maximising. */
  samplerHistory(): SamplerTrial[] {
    const sign = this.current.direction === 'maximize' ? -1 : 1;
    return this.current.trials.map((t) => (t.state === 'complete' && t.value !== undefined ? { params: t.params, state: t.state, loss: sign * t.value } : { params: t.params, state: t.state }));
  }

  private prunerHistory(): PrunerTrial[] {
    return this.current.trials.map((t) => ({ id: t.id, state: t.state, intermediate: t.intermediate }));
  }

  private runningTrial(trialId: number, op: string): TrialRecord {
    const t = this.current.trials[trialId];
    if (t === undefined) throw new RangeError(`study "${this.current.name}": ${op}: no trial ${trialId}`);
    if (t.state !== 'running') throw new Error(`study "${this.current.name}": ${op}: trial ${trialId} is ${t.state}, not running`);
    return t;
  }

  private replaceTrial(trial: TrialRecord): void {
    const trials = this.current.trials.map((t) => (t.id === trial.id ? trial : t));
    this.commit({ ...this.current, trials });
  }

  private commit(state: StudyState): void {
    this.current = { ...state, elapsedMs: this.elapsedMs() };
    this.onChange?.(this.current);
  }
}

function spaceOptions(state: Pick<StudyState, 'allowUnknownParameters'>): ParseSearchSpaceOptions {
  return { allowUnknown: state.allowUnknownParameters };
}

function requeued(t: TrialRecord): TrialRecord {
  const { startedAtMs: _s, finishedAtMs: _f, value: _v, failure: _x, ...rest } = t;
  return { ...rest, state: 'pending', intermediate: [] };
}

// ---- validation of a loaded state ------------------------------------------------------------------------------

/** Thrown for a malformed saved state; the message names the field (e.g. `study state: trials[3].state: ...`). */
export class StudyStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StudyStateError';
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function fail(path: string, what: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : (JSON.stringify(got) as string | undefined)?.slice(0, 80) ?? typeof got;
  throw new StudyStateError(`study state: ${path}: expected ${what} (got ${shown})`);
}

function num(obj: Record<string, unknown>, key: string, path: string, optional = false): number | undefined {
  const v = obj[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`${path}.${key}`, 'a finite number', v);
  return v;
}

function str(obj: Record<string, unknown>, key: string, path: string): string {
  const v = obj[key];
  if (typeof v !== 'string') return fail(`${path}.${key}`, 'a string', v);
  return v;
}

function oneOf<T extends string>(obj: Record<string, unknown>, key: string, options: readonly T[], path: string): T {
  const v = obj[key];
  if (typeof v !== 'string' || !(options as readonly string[]).includes(v)) return fail(`${path}.${key}`, `one of ${options.join(', ')}`, v);
  return v as T;
}

function parseParams(x: unknown, path: string): Params {
  if (!isRecord(x)) return fail(path, 'an object of parameter values', x);
  const out: Record<string, ParamValue> = {};
  for (const [k, v] of Object.entries(x)) {
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else fail(`${path}.${k}`, 'a finite number, string or boolean', v);
  }
  return out;
}

function optionalNumbers<K extends string>(obj: Record<string, unknown>, keys: readonly K[], path: string): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const k of keys) {
    const v = num(obj, k, path, true);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

function parseSamplerConfig(x: unknown): SamplerConfig {
  if (!isRecord(x)) return fail('sampler', 'an object', x);
  const kind = oneOf(x, 'kind', ['tpe', 'random'] as const, 'sampler');
  const seed = num(x, 'seed', 'sampler') ?? 0;
  if (kind === 'random') return { kind, seed };
  return { kind, seed, ...optionalNumbers(x, ['nStartupJobs', 'gamma', 'nEiCandidates', 'priorWeight'] as const, 'sampler') };
}

function parsePrunerConfig(x: unknown): PrunerConfig {
  if (!isRecord(x)) return fail('pruner', 'an object', x);
  const kind = oneOf(x, 'kind', ['none', 'median', 'asha'] as const, 'pruner');
  if (kind === 'none') return { kind };
  if (kind === 'median') return { kind, ...optionalNumbers(x, ['nStartupTrials', 'nWarmupSteps'] as const, 'pruner') };
  return { kind, ...optionalNumbers(x, ['minResource', 'reductionFactor', 'minEarlyStoppingRate'] as const, 'pruner') };
}

function checkBudget(b: StudyBudget, path: string): void {
  if (b.maxTrials !== undefined && !(Number.isInteger(b.maxTrials) && b.maxTrials >= 0)) fail(`${path}.maxTrials`, 'a non-negative integer', b.maxTrials);
  if (b.maxWallMinutes !== undefined && !(b.maxWallMinutes >= 0)) fail(`${path}.maxWallMinutes`, 'a non-negative number', b.maxWallMinutes);
}

function parseTrial(x: unknown, index: number): TrialRecord {
  const path = `trials[${index}]`;
  if (!isRecord(x)) return fail(path, 'an object', x);
  const id = num(x, 'id', path);
  if (id !== index) fail(`${path}.id`, `${index} (trials are stored in id order)`, id);
  const state = oneOf(x, 'state', TRIAL_STATES, path);
  const source = oneOf(x, 'source', ['enqueued', 'sampler'] as const, path);
  const attempts = num(x, 'attempts', path) ?? 0;
  if (!Array.isArray(x.intermediate)) fail(`${path}.intermediate`, 'an array', x.intermediate);
  const intermediate = (x.intermediate as unknown[]).map((iv, j): IntermediateValue => {
    if (!isRecord(iv)) return fail(`${path}.intermediate[${j}]`, 'an object {step, value}', iv);
    return { step: num(iv, 'step', `${path}.intermediate[${j}]`) ?? 0, value: num(iv, 'value', `${path}.intermediate[${j}]`) ?? 0 };
  });
  // keys in the order Study writes them, so a load/save round trip is byte-identical
  let t: TrialRecord = { id: index, params: parseParams(x.params, `${path}.params`), source, state, attempts, intermediate };
  const startedAtMs = num(x, 'startedAtMs', path, true);
  if (startedAtMs !== undefined) t = { ...t, startedAtMs };
  const value = num(x, 'value', path, true);
  if (value !== undefined) t = { ...t, value };
  if (state === 'complete' && value === undefined) fail(`${path}.value`, 'a finite number for a complete trial', x.value);
  if (x.failure !== undefined) {
    if (!isRecord(x.failure)) fail(`${path}.failure`, 'an object {reason, message}', x.failure);
    t = { ...t, failure: { reason: oneOf(x.failure, 'reason', FAILURE_REASONS, `${path}.failure`), message: str(x.failure, 'message', `${path}.failure`) } };
  }
  if (state === 'failed' && t.failure === undefined) fail(`${path}.failure`, 'a failure for a failed trial', x.failure);
  const finishedAtMs = num(x, 'finishedAtMs', path, true);
  if (finishedAtMs !== undefined) t = { ...t, finishedAtMs };
  return t;
}

/** Validates a saved state (any JSON value) and returns it typed. Throws StudyStateError naming the bad field. */
export function parseStudyState(x: unknown): StudyState {
  if (!isRecord(x)) return fail('(root)', 'an object', x);
  if (x.version !== STUDY_STATE_VERSION) fail('version', `${STUDY_STATE_VERSION} (this TuneLab reads study state version ${STUDY_STATE_VERSION})`, x.version);
  const name = str(x, 'name', '(root)');
  const allowUnknownParameters = x.allowUnknownParameters === true;
  if (!isRecord(x.space)) fail('space', 'an object', x.space);
  try {
    parseSearchSpace(x.space, 'study state: space', { allowUnknown: allowUnknownParameters });
  } catch (e) {
    if (e instanceof SearchSpaceError) throw new StudyStateError(e.message);
    throw e;
  }
  if (!isRecord(x.budget)) fail('budget', 'an object', x.budget);
  const budget: StudyBudget = optionalNumbers(x.budget, ['maxTrials', 'maxWallMinutes'] as const, 'budget');
  checkBudget(budget, 'budget');
  if (!Array.isArray(x.queue)) fail('queue', 'an array', x.queue);
  if (!Array.isArray(x.trials)) fail('trials', 'an array', x.trials);
  return {
    version: STUDY_STATE_VERSION,
    name,
    metric: str(x, 'metric', '(root)'),
    direction: oneOf(x, 'direction', ['maximize', 'minimize'] as const, '(root)'),
    space: x.space,
    allowUnknownParameters,
    sampler: parseSamplerConfig(x.sampler),
    pruner: parsePrunerConfig(x.pruner),
    budget,
    queue: (x.queue as unknown[]).map((q, i) => parseParams(q, `queue[${i}]`)),
    trials: (x.trials as unknown[]).map(parseTrial),
    elapsedMs: num(x, 'elapsedMs', '(root)') ?? 0,
    createdAtMs: num(x, 'createdAtMs', '(root)') ?? 0,
  };
}
