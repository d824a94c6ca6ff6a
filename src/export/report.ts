// The study report as data (report.json): the study's settings, every trial (parameters, status, reason, values,
// curves), the best trial, the final model's test result, and warnings such as a best value at the edge of the
// search space. renderReportHtml (report-html.ts) draws the same object. Pure: no I/O, runs anywhere.
import { parseSearchSpace, type ParamSpec, type ParamValue, type Params } from '../search/space.ts';
import type { StudyState, TrialRecord } from '../search/study.ts';
import type { TrialSummary } from '../coord/study-runner.ts';

export const REPORT_FORMAT = 'tunelab-study-report';
export const REPORT_VERSION = 1;

/** Fraction of a parameter's range (in log space for log parameters) that counts as "at the edge". */
export const EDGE_FRACTION = 0.05;

export type ReportTrialStatus = 'complete' | 'pruned' | 'failed' | 'running' | 'pending' | 'stopped';

export interface ReportTrial {
  readonly number: number;
  readonly params: Params;
  readonly status: ReportTrialStatus;
  readonly reason: string | null;
  readonly message: string | null;
  /** The study's value (final validation accuracy for complete trials, the last one for pruned). */
  readonly value: number | null;
  readonly bestValAccuracy: number | null;
  readonly steps: number | null;
  readonly totalSteps: number | null;
  readonly seconds: number | null;
  readonly attempts: number;
  readonly source: 'enqueued' | 'sampler';
  /** Validation curve: fractional epoch, loss, accuracy. */
  readonly evals: readonly { readonly step: number; readonly epoch: number; readonly valLoss: number | null; readonly valAccuracy: number | null }[];
  readonly trainLoss: readonly { readonly step: number; readonly loss: number | null }[];
}

export interface EdgeWarning {
  readonly parameter: string;
  readonly value: number;
  readonly bound: 'low' | 'high';
  readonly boundValue: number;
  /** Distance to the bound as a fraction of the range (log space for log parameters). */
  readonly fraction: number;
  readonly logScale: boolean;
  readonly message: string;
}

export interface FinalModelReport {
  readonly mode: 'kept' | 'retrained' | 'retrained-missing-weights';
  readonly trialNumber: number;
  readonly testAccuracy: number | null;
  readonly testLoss: number | null;
  readonly testRows: number;
  /** Where the Hugging Face folder was written (a path, or a name in the browser). */
  readonly path: string | null;
}

export interface ReportContext {
  readonly model?: Readonly<Record<string, unknown>>;
  readonly dataset?: Readonly<Record<string, unknown>>;
  readonly settings?: Readonly<Record<string, unknown>>;
  readonly final?: FinalModelReport | null;
  /** ISO time the report was made (default now). */
  readonly generatedAt?: string;
  readonly tunelabVersion?: string;
}

export interface StudyReport {
  readonly format: typeof REPORT_FORMAT;
  readonly version: typeof REPORT_VERSION;
  readonly generatedAt: string;
  readonly tunelabVersion: string | null;
  readonly study: {
    readonly name: string;
    readonly metric: string;
    readonly direction: 'maximize' | 'minimize';
    readonly sampler: unknown;
    readonly pruner: unknown;
    readonly budget: unknown;
    readonly space: unknown;
    readonly createdAt: string;
    readonly elapsedSeconds: number;
  };
  readonly model: Readonly<Record<string, unknown>> | null;
  readonly dataset: Readonly<Record<string, unknown>> | null;
  readonly settings: Readonly<Record<string, unknown>> | null;
  readonly counts: Readonly<Record<ReportTrialStatus, number>>;
  /** Optimizer steps trained over all trials, and what the pruned trials would have needed to finish. */
  readonly steps: { readonly trained: number; readonly savedByPruning: number };
  readonly trials: readonly ReportTrial[];
  readonly best: ReportTrial | null;
  readonly final: FinalModelReport | null;
  readonly edgeWarnings: readonly EdgeWarning[];
  /** Parameter specs in order (for plots): name, type, bounds or choices. */
  readonly parameters: readonly ParamSpec[];
}

function finite(x: number | null | undefined): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}

function reportTrial(t: TrialRecord, s: TrialSummary | undefined): ReportTrial {
  // A running trial in a finished study was stopped (deadline or stop); it re-runs on resume.
  const status: ReportTrialStatus = t.state === 'running' ? 'stopped' : t.state;
  const summaryMatches = s !== undefined && (s.status === t.state || status === 'stopped');
  const reason = t.failure?.reason ?? (t.state === 'pruned' ? 'pruned' : null);
  return {
    number: t.id, params: t.params, status, reason, message: t.failure?.message || (summaryMatches ? (s.message ?? null) : null),
    value: finite(t.value), bestValAccuracy: summaryMatches ? finite(s.bestValAccuracy) : null,
    steps: summaryMatches ? s.steps : null, totalSteps: summaryMatches ? s.totalSteps : null, seconds: summaryMatches ? s.seconds : null,
    attempts: t.attempts, source: t.source,
    evals: summaryMatches ? s.evals.map((e) => ({ step: e.step, epoch: e.epoch, valLoss: finite(e.valLoss), valAccuracy: finite(e.valAccuracy) })) : t.intermediate.map((iv) => ({ step: iv.step, epoch: NaN, valLoss: null, valAccuracy: finite(iv.value) })),
    trainLoss: summaryMatches ? s.trainLoss.map((p) => ({ step: p.step, loss: finite(p.loss) })) : [],
  };
}

/** Where `value` sits in `spec`'s range, 0..1 (log space for log parameters); undefined for non-numeric specs. */
export function rangePosition(spec: ParamSpec, value: ParamValue): { position: number; logScale: boolean } | undefined {
  if (typeof value !== 'number') return undefined;
  if (spec.type === 'int' || spec.type === 'uniform') {
    if (spec.high <= spec.low) return undefined;
    return { position: (value - spec.low) / (spec.high - spec.low), logScale: false };
  }
  if (spec.type === 'loguniform') {
    if (value <= 0) return undefined;
    return { position: (Math.log(value) - Math.log(spec.low)) / (Math.log(spec.high) - Math.log(spec.low)), logScale: true };
  }
  return undefined;
}

/** Numeric parameters whose best value lies within EDGE_FRACTION of a bound: the optimum may be outside the space. */
export function edgeWarnings(parameters: readonly ParamSpec[], best: Params | undefined, fraction = EDGE_FRACTION): EdgeWarning[] {
  if (!best) return [];
  const out: EdgeWarning[] = [];
  for (const spec of parameters) {
    const v = best[spec.name];
    if (v === undefined || spec.type === 'fixed' || spec.type === 'categorical') continue;
    const pos = rangePosition(spec, v);
    if (!pos || typeof v !== 'number') continue;
    const low = pos.position <= fraction;
    const high = pos.position >= 1 - fraction;
    if (!low && !high) continue;
    const bound = low ? 'low' : 'high';
    const boundValue = low ? spec.low : spec.high;
    const dist = low ? pos.position : 1 - pos.position;
    out.push({
      parameter: spec.name, value: v, bound, boundValue, fraction: dist, logScale: pos.logScale,
      message: `the best ${spec.name} (${fmtValue(v)}) is within ${Math.round(fraction * 100)}% of the ${bound === 'low' ? 'lower' : 'upper'} bound ${fmtValue(boundValue)}${pos.logScale ? ' (log scale)' : ''}: the optimum may lie outside the search space; consider widening it`,
    });
  }
  return out;
}

export function fmtValue(v: ParamValue | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(Number(v.toPrecision(4)));
}

export function buildReport(state: StudyState, summaries: readonly TrialSummary[], context: ReportContext = {}): StudyReport {
  const byId = new Map(summaries.map((s) => [s.trialId, s]));
  const trials = state.trials.map((t) => reportTrial(t, byId.get(t.id)));
  const parameters = parseSearchSpace(state.space, 'report: study space', { allowUnknown: state.allowUnknownParameters }).parameters;
  let best: ReportTrial | null = null;
  for (const t of trials) {
    if (t.status !== 'complete' || t.value === null) continue;
    if (best?.value == null || (state.direction === 'maximize' ? t.value > best.value : t.value < best.value)) best = t;
  }
  const counts: Record<ReportTrialStatus, number> = { complete: 0, pruned: 0, failed: 0, running: 0, pending: 0, stopped: 0 };
  for (const t of trials) counts[t.status]++;
  let trained = 0, saved = 0;
  for (const t of trials) {
    trained += t.steps ?? 0;
    if (t.status === 'pruned' && t.totalSteps !== null && t.steps !== null) saved += Math.max(0, t.totalSteps - t.steps);
  }
  return {
    format: REPORT_FORMAT, version: REPORT_VERSION,
    generatedAt: context.generatedAt ?? new Date().toISOString(), tunelabVersion: context.tunelabVersion ?? null,
    study: {
      name: state.name, metric: state.metric, direction: state.direction, sampler: state.sampler, pruner: state.pruner, budget: state.budget,
      space: state.space, createdAt: new Date(state.createdAtMs).toISOString(), elapsedSeconds: state.elapsedMs / 1000,
    },
    model: context.model ?? null, dataset: context.dataset ?? null, settings: context.settings ?? null,
    counts, steps: { trained, savedByPruning: saved }, trials, best, final: context.final ?? null,
    edgeWarnings: edgeWarnings(parameters, best?.params), parameters,
  };
}

/** JSON text of a report; non-finite numbers (none should remain) become null. */
export function reportToJson(report: StudyReport): string {
  return `${JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`;
}
