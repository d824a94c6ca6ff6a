// Search spaces: the JSON format, its validation, and the numeric domains the samplers work in.
//
// JSON shape (an object keyed by parameter name, order kept):
//   { "learning_rate": { "type": "loguniform", "low": 1e-5, "high": 1e-3 },
//     "batch_size":    { "type": "categorical", "choices": [16, 32] },
//     "epochs":        { "type": "int", "low": 1, "high": 4 },
//     "warmup_ratio":  { "type": "quniform", "low": 0, "high": 0.2, "q": 0.05 },
//     "seed": 42 }                                   <- a bare constant is a fixed setting
// Types: uniform | loguniform (low > 0) | quniform | qloguniform (q > 0; values low + k*q, k = 0..K, never above high)
// | int (inclusive integer bounds) | categorical (choices: numbers, strings or booleans, no duplicates) | fixed.
// "uniform"/"loguniform" also accept a "q" field (same as the q-types).

import type { Rng } from './rng.ts';

export type ParamValue = number | string | boolean;
export type Params = Readonly<Record<string, ParamValue>>;

export type ParamSpec =
  | { readonly name: string; readonly type: 'uniform' | 'loguniform'; readonly low: number; readonly high: number; readonly q?: number }
  | { readonly name: string; readonly type: 'int'; readonly low: number; readonly high: number }
  | { readonly name: string; readonly type: 'categorical'; readonly choices: readonly ParamValue[] }
  | { readonly name: string; readonly type: 'fixed'; readonly value: ParamValue };

export interface SearchSpace {
  readonly parameters: readonly ParamSpec[];
}

/** The JSON form (what parseSearchSpace reads and searchSpaceToJSON writes). */
export type SearchSpaceJSON = Readonly<Record<string, unknown>>;

/** A bad search space or bad parameter values; `issues` has one line per problem. */
export class SearchSpaceError extends Error {
  readonly issues: readonly string[];
  constructor(issues: readonly string[]) {
    super(issues.join('\n'));
    this.name = 'SearchSpaceError';
    this.issues = issues;
  }
}

/** A parameter the training engine understands, with the values it accepts. */
export interface KnownParameter {
  readonly name: string;
  readonly valueType: 'real' | 'int';
  readonly min: number;
  readonly max: number;
  readonly minExclusive: boolean;
  readonly maxExclusive: boolean;
  readonly description: string;
}

function known(name: string, valueType: 'real' | 'int', min: number, max: number, minExclusive: boolean, maxExclusive: boolean, description: string): KnownParameter {
  return { name, valueType, min, max, minExclusive, maxExclusive, description };
}

/** Parameters the engine supports and their valid ranges: spaces and enqueued configs outside them are rejected before a trial runs. */
export const ENGINE_PARAMETERS: readonly KnownParameter[] = [
  known('learning_rate', 'real', 0, 1, true, false, 'peak AdamW learning rate'),
  known('batch_size', 'int', 1, 4096, false, false, 'effective batch size in sequences'),
  known('weight_decay', 'real', 0, 1, false, false, 'decoupled AdamW weight decay'),
  known('warmup_ratio', 'real', 0, 0.5, false, false, 'fraction of steps spent in linear warmup'),
  known('epochs', 'int', 1, 20, false, false, 'passes over the training split'),
  known('dropout', 'real', 0, 0.5, false, false, 'hidden dropout probability'),
  known('attention_dropout', 'real', 0, 0.5, false, false, 'attention-probability dropout'),
  known('max_grad_norm', 'real', 0, Number.POSITIVE_INFINITY, true, false, 'global gradient-norm clip'),
  known('adam_beta1', 'real', 0, 1, false, true, 'AdamW first-moment decay'),
  known('adam_beta2', 'real', 0, 1, false, true, 'AdamW second-moment decay'),
  known('adam_epsilon', 'real', 0, 1e-2, true, false, 'AdamW denominator epsilon'),
  known('seed', 'int', 0, 2147483647, false, false, 'seed for head init, shuffles and dropout'),
];

const KNOWN_BY_NAME = new Map(ENGINE_PARAMETERS.map((p) => [p.name, p]));

export function knownParameter(name: string): KnownParameter | undefined {
  return KNOWN_BY_NAME.get(name);
}

/** The default TuneLab space (sequence length 192 is a fixed engine setting, not searched). */
export const DEFAULT_SEARCH_SPACE_JSON: SearchSpaceJSON = {
  learning_rate: { type: 'loguniform', low: 1e-5, high: 1e-3 },
  batch_size: { type: 'categorical', choices: [16, 32] },
  weight_decay: { type: 'loguniform', low: 1e-6, high: 1e-2 },
};

export interface ParseSearchSpaceOptions {
  /** Accept names the engine does not know (benchmarks, other objectives). Known names are still range-checked. */
  readonly allowUnknown?: boolean;
  /** Check known names against ENGINE_PARAMETERS (default true). */
  readonly checkEngineRanges?: boolean;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function fmt(x: unknown): string {
  return typeof x === 'string' ? JSON.stringify(x) : String(x);
}

function rangeText(k: KnownParameter): string {
  const lo = k.minExclusive ? `(${k.min}` : `[${k.min}`;
  const hi = k.maxExclusive || k.max === Number.POSITIVE_INFINITY ? `${k.max === Number.POSITIVE_INFINITY ? 'inf' : k.max})` : `${k.max}]`;
  return `${lo}, ${hi}`;
}

/** Why `value` is not valid for the known parameter, or undefined when it is. */
export function checkKnownValue(k: KnownParameter, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return `must be a finite number (got ${fmt(value)})`;
  const inRange = (k.minExclusive ? value > k.min : value >= k.min) && (k.maxExclusive ? value < k.max : value <= k.max);
  if (k.valueType === 'int' && !Number.isInteger(value)) return `must be an integer in ${rangeText(k)} (got ${value})`;
  if (!inRange) return `must be in ${rangeText(k)} (got ${value})`;
  return undefined;
}

const TYPES = ['uniform', 'loguniform', 'quniform', 'qloguniform', 'int', 'categorical', 'fixed'] as const;

function parseParam(name: string, raw: unknown, where: string, issues: string[]): ParamSpec | undefined {
  const at = `${where}: parameter "${name}"`;
  if (typeof raw === 'number' || typeof raw === 'string' || typeof raw === 'boolean') {
    if (typeof raw === 'number' && !Number.isFinite(raw)) {
      issues.push(`${at}: a fixed value must be finite (got ${raw})`);
      return undefined;
    }
    return { name, type: 'fixed', value: raw };
  }
  if (!isRecord(raw)) {
    issues.push(`${at}: expected an object with a "type" field or a fixed number/string/boolean (got ${Array.isArray(raw) ? 'an array' : fmt(raw)})`);
    return undefined;
  }
  const type = raw.type;
  if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
    issues.push(`${at}: type must be one of ${TYPES.join(', ')} (got ${fmt(type)})`);
    return undefined;
  }
  const allowed: Record<string, readonly string[]> = {
    uniform: ['type', 'low', 'high', 'q'],
    loguniform: ['type', 'low', 'high', 'q'],
    quniform: ['type', 'low', 'high', 'q'],
    qloguniform: ['type', 'low', 'high', 'q'],
    int: ['type', 'low', 'high'],
    categorical: ['type', 'choices'],
    fixed: ['type', 'value'],
  };
  for (const key of Object.keys(raw)) {
    if (!(allowed[type] ?? []).includes(key)) issues.push(`${at}: unknown field "${key}" for type ${type}`);
  }
  if (type === 'fixed') {
    const v = raw.value;
    if ((typeof v === 'number' && Number.isFinite(v)) || typeof v === 'string' || typeof v === 'boolean') return { name, type: 'fixed', value: v };
    issues.push(`${at}: value must be a finite number, a string or a boolean (got ${fmt(v)})`);
    return undefined;
  }
  if (type === 'categorical') {
    const choices = raw.choices;
    if (!Array.isArray(choices) || choices.length === 0) {
      issues.push(`${at}: choices must be a non-empty array`);
      return undefined;
    }
    const out: ParamValue[] = [];
    let ok = true;
    choices.forEach((c: unknown, i) => {
      if ((typeof c === 'number' && Number.isFinite(c)) || typeof c === 'string' || typeof c === 'boolean') {
        if (out.includes(c)) {
          issues.push(`${at}: choices[${i}] duplicates ${fmt(c)}`);
          ok = false;
        }
        out.push(c);
      } else {
        issues.push(`${at}: choices[${i}] must be a finite number, a string or a boolean (got ${fmt(c)})`);
        ok = false;
      }
    });
    return ok ? { name, type: 'categorical', choices: out } : undefined;
  }
  const before = issues.length;
  const num = (field: string): number | undefined => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      issues.push(`${at}: ${field} must be a finite number (got ${v === undefined ? 'nothing' : fmt(v)})`);
      return undefined;
    }
    return v;
  };
  const low = num('low');
  const high = num('high');
  if (low === undefined || high === undefined) return undefined;
  if (type === 'int') {
    if (!Number.isInteger(low)) issues.push(`${at}: low must be an integer for int (got ${low})`);
    if (!Number.isInteger(high)) issues.push(`${at}: high must be an integer for int (got ${high})`);
    if (high < low) issues.push(`${at}: high must be >= low (got low ${low}, high ${high})`);
    return issues.length === before ? { name, type: 'int', low, high } : undefined;
  }
  const log = type === 'loguniform' || type === 'qloguniform';
  const needsQ = type === 'quniform' || type === 'qloguniform';
  if (log && low <= 0) issues.push(`${at}: low must be > 0 for ${type} (got ${low})`);
  if (high <= low) issues.push(`${at}: high must be > low (got low ${low}, high ${high})`);
  let q: number | undefined;
  if (raw.q !== undefined || needsQ) {
    q = num('q');
    if (q !== undefined && q <= 0) issues.push(`${at}: q must be > 0 (got ${q})`);
    else if (q !== undefined && high > low && q > high - low) issues.push(`${at}: q must be <= high - low (got q ${q}, range ${high - low})`);
  }
  if (issues.length !== before) return undefined;
  const base = { name, type: log ? ('loguniform' as const) : ('uniform' as const), low, high };
  return q === undefined ? base : { ...base, q };
}

/** Values a numeric spec can take at its ends (for range checks against the engine). */
function checkAgainstEngine(spec: ParamSpec, k: KnownParameter, at: string, issues: string[]): void {
  switch (spec.type) {
    case 'fixed': {
      const why = checkKnownValue(k, spec.value);
      if (why) issues.push(`${at}: value ${why}`);
      return;
    }
    case 'categorical':
      spec.choices.forEach((c, i) => {
        const why = checkKnownValue(k, c);
        if (why) issues.push(`${at}: choices[${i}] ${why}`);
      });
      return;
    case 'int':
    case 'uniform':
    case 'loguniform': {
      if (k.valueType === 'int' && spec.type !== 'int' && (spec.q === undefined || !Number.isInteger(spec.q) || !Number.isInteger(spec.low))) {
        issues.push(`${at}: takes integers: use type int, categorical, or a q-type with integer low and q`);
        return;
      }
      const lowWhy = checkKnownValue(k, spec.low);
      if (lowWhy) issues.push(`${at}: low ${lowWhy}`);
      const top = spec.type === 'int' ? spec.high : gridMax(spec);
      const highWhy = checkKnownValue(k, top);
      if (highWhy) issues.push(`${at}: high ${highWhy}`);
    }
  }
}

/**
 * Validates a JSON search space. Errors name the source, the parameter and the field, e.g.
 * `search space: parameter "learning_rate": low must be > 0 for loguniform (got 0)`; all problems are reported at once.
 */
export function parseSearchSpace(json: unknown, source = 'search space', options: ParseSearchSpaceOptions = {}): SearchSpace {
  if (!isRecord(json)) throw new SearchSpaceError([`${source}: expected an object mapping parameter names to specs`]);
  const issues: string[] = [];
  const parameters: ParamSpec[] = [];
  const names = Object.keys(json);
  if (names.length === 0) issues.push(`${source}: no parameters`);
  for (const name of names) {
    const at = `${source}: parameter "${name}"`;
    const k = knownParameter(name);
    if (!k && !options.allowUnknown) {
      issues.push(`${at}: unknown parameter; the engine supports ${ENGINE_PARAMETERS.map((p) => p.name).join(', ')}`);
      continue;
    }
    const spec = parseParam(name, json[name], source, issues);
    if (!spec) continue;
    if (k && options.checkEngineRanges !== false) checkAgainstEngine(spec, k, at, issues);
    parameters.push(spec);
  }
  if (issues.length > 0) throw new SearchSpaceError(issues);
  return { parameters };
}

export const DEFAULT_SEARCH_SPACE: SearchSpace = parseSearchSpace(DEFAULT_SEARCH_SPACE_JSON, 'default search space');

/** The JSON form of a parsed space (parseSearchSpace(searchSpaceToJSON(s)) equals s). */
export function searchSpaceToJSON(space: SearchSpace): SearchSpaceJSON {
  const out: Record<string, unknown> = {};
  for (const p of space.parameters) {
    switch (p.type) {
      case 'fixed':
        out[p.name] = p.value;
        break;
      case 'categorical':
        out[p.name] = { type: 'categorical', choices: [...p.choices] };
        break;
      case 'int':
        out[p.name] = { type: 'int', low: p.low, high: p.high };
        break;
      default:
        out[p.name] = p.q === undefined ? { type: p.type, low: p.low, high: p.high } : { type: p.type, low: p.low, high: p.high, q: p.q };
    }
  }
  return out;
}

/**
 * Problems with a concrete configuration (an enqueued one, or one from outside): values of space parameters must have
 * the space's kind (a categorical value among its choices), known parameters must be in the engine's range, and names
 * neither in the space nor known to the engine are rejected. Out-of-range values for a numeric space parameter are
 * allowed (they let a user try a known-good point just outside the box).
 */
export function checkParams(params: Params, space: SearchSpace, source = 'config', options: ParseSearchSpaceOptions = {}): string[] {
  const issues: string[] = [];
  const byName = new Map(space.parameters.map((p) => [p.name, p]));
  for (const [name, value] of Object.entries(params)) {
    const at = `${source}: parameter "${name}"`;
    const spec = byName.get(name);
    const k = knownParameter(name);
    if (!spec && !k && !options.allowUnknown) {
      issues.push(`${at}: not in the search space and not an engine parameter`);
      continue;
    }
    if (spec?.type === 'categorical' && !spec.choices.includes(value)) {
      issues.push(`${at}: ${fmt(value)} is not one of the choices ${spec.choices.map(fmt).join(', ')}`);
      continue;
    }
    if (spec && (spec.type === 'uniform' || spec.type === 'loguniform' || spec.type === 'int') && (typeof value !== 'number' || !Number.isFinite(value))) {
      issues.push(`${at}: must be a finite number (got ${fmt(value)})`);
      continue;
    }
    if (spec?.type === 'int' && !Number.isInteger(value)) {
      issues.push(`${at}: must be an integer (got ${fmt(value)})`);
      continue;
    }
    if (k && options.checkEngineRanges !== false) {
      const why = checkKnownValue(k, value);
      if (why) issues.push(`${at}: ${why}`);
    }
  }
  return issues;
}

// ---- numeric domains -------------------------------------------------------------------------------------------

/**
 * How a numeric parameter is modelled: an internal coordinate u = x (or log x) with a uniform prior on [a, b].
 * Quantized parameters (q-types; int = q 1) take grid values low + k*q, k = 0..K; each grid value owns the cell
 * [v - q/2, v + q/2] clipped to the domain, and [a, b] is widened by q/2 so the end values get whole cells
 * (for a log domain, the lower widening is dropped when low - q/2 <= 0).
 */
export interface NumericDomain {
  readonly log: boolean;
  readonly q: number | undefined;
  readonly low: number;
  /** Largest value: high, or the largest grid value <= high. */
  readonly max: number;
  readonly a: number;
  readonly b: number;
}

type NumericSpec = Extract<ParamSpec, { type: 'uniform' | 'loguniform' | 'int' }>;

function gridMax(spec: NumericSpec): number {
  const q = spec.type === 'int' ? 1 : spec.q;
  if (q === undefined) return spec.high;
  const k = Math.floor((spec.high - spec.low) / q + 1e-9);
  return cleanFloat(spec.low + k * q);
}

function cleanFloat(x: number): number {
  return Number(x.toPrecision(12));
}

export function numericDomain(spec: NumericSpec): NumericDomain {
  const log = spec.type === 'loguniform';
  const q = spec.type === 'int' ? 1 : spec.q;
  const max = gridMax(spec);
  const t = log ? Math.log : (x: number): number => x;
  if (q === undefined) return { log, q, low: spec.low, max, a: t(spec.low), b: t(spec.high) };
  const lowEdge = log && spec.low - q / 2 <= 0 ? spec.low : spec.low - q / 2;
  return { log, q, low: spec.low, max, a: t(lowEdge), b: t(max + q / 2) };
}

/** Internal coordinate of a value (log for log domains; values <= 0 on a log domain map to a). */
export function toInternal(d: NumericDomain, x: number): number {
  if (!d.log) return x;
  return x > 0 ? Math.log(x) : d.a;
}

/** The parameter value for an internal coordinate, snapped to the grid for quantized domains and kept in [low, max]. */
export function fromInternal(d: NumericDomain, u: number): number {
  const x = d.log ? Math.exp(u) : u;
  if (d.q === undefined) return Math.min(d.max, Math.max(d.low, x));
  const kMax = Math.round((d.max - d.low) / d.q);
  const k = Math.min(kMax, Math.max(0, Math.round((x - d.low) / d.q)));
  return cleanFloat(d.low + k * d.q);
}

/** The internal interval owned by a grid value (quantized domains). */
export function cellOf(d: NumericDomain, value: number, q: number): [number, number] {
  const lo = d.log ? (value - q / 2 > 0 ? Math.log(value - q / 2) : d.a) : value - q / 2;
  const hi = d.log ? Math.log(value + q / 2) : value + q / 2;
  return [Math.max(d.a, lo), Math.min(d.b, hi)];
}

/** A draw from the prior (uniform in the internal coordinate; uniform over choices). */
export function samplePrior(spec: ParamSpec, rng: Rng): ParamValue {
  switch (spec.type) {
    case 'fixed':
      return spec.value;
    case 'categorical': {
      const c = spec.choices[rng.int(spec.choices.length)];
      if (c === undefined) throw new Error('unreachable: empty choices');
      return c;
    }
    default: {
      const d = numericDomain(spec);
      return fromInternal(d, d.a + (d.b - d.a) * rng.next());
    }
  }
}
