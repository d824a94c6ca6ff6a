// Early stopping of trials from their intermediate values (validation accuracy per evaluation step, maximised by
// default). Pruners are pure functions of the history: nothing is kept between calls, so a resumed study prunes the
// same way.

import type { TrialState } from './sampler.ts';

export type Direction = 'maximize' | 'minimize';

export interface IntermediateValue {
  readonly step: number;
  readonly value: number;
}

/** A trial as a pruner sees it: its state and the intermediate values reported so far (steps increasing). */
export interface PrunerTrial {
  readonly id: number;
  readonly state: TrialState;
  readonly intermediate: readonly IntermediateValue[];
}

export interface Pruner {
  /** Called when trial `trialId` reports `value` at `step`; `history` may or may not contain that report already. */
  shouldPrune(trialId: number, step: number, value: number, history: readonly PrunerTrial[]): boolean;
}

export class NopPruner implements Pruner {
  shouldPrune(): boolean {
    return false;
  }
}

function better(direction: Direction, a: number, b: number): boolean {
  return direction === 'maximize' ? a > b : a < b;
}

/** The trial's values up to and including `step`, with the current report merged in. */
function ownValues(trialId: number, step: number, value: number, history: readonly PrunerTrial[]): IntermediateValue[] {
  const own = history.find((t) => t.id === trialId);
  const vals = (own?.intermediate ?? []).filter((iv) => iv.step < step);
  vals.push({ step, value });
  return vals;
}

function bestUpTo(direction: Direction, values: readonly IntermediateValue[], step: number): number | undefined {
  let best: number | undefined;
  for (const iv of values) {
    if (iv.step > step || !Number.isFinite(iv.value)) continue;
    if (best === undefined || better(direction, iv.value, best)) best = iv.value;
  }
  return best;
}

export interface MedianPrunerOptions {
  readonly direction?: Direction;
  /** Completed trials needed before anything is pruned (default 5). */
  readonly nStartupTrials?: number;
  /** Steps below this are never pruned (default 0). */
  readonly nWarmupSteps?: number;
}

/**
 * Median stopping rule: at step s, prune when the trial's best value so far is worse than the median, over completed
 * trials, of their best value at steps <= s. (Best-so-far on both sides compares like with like when evaluation
 * steps differ between trials, e.g. different batch sizes, and is robust to a noisy evaluation.) Completed trials
 * that reported nothing at or before s are left out; with fewer than nStartupTrials completed (or none with a value)
 * nothing is pruned.
 */
export class MedianPruner implements Pruner {
  readonly direction: Direction;
  readonly nStartupTrials: number;
  readonly nWarmupSteps: number;

  constructor(options: MedianPrunerOptions = {}) {
    this.direction = options.direction ?? 'maximize';
    this.nStartupTrials = options.nStartupTrials ?? 5;
    this.nWarmupSteps = options.nWarmupSteps ?? 0;
  }

  shouldPrune(trialId: number, step: number, value: number, history: readonly PrunerTrial[]): boolean {
    if (step < this.nWarmupSteps) return false;
    const completed = history.filter((t) => t.state === 'complete' && t.id !== trialId);
    if (completed.length < this.nStartupTrials) return false;
    const others: number[] = [];
    for (const t of completed) {
      const b = bestUpTo(this.direction, t.intermediate, step);
      if (b !== undefined) others.push(b);
    }
    if (others.length === 0) return false;
    const mine = bestUpTo(this.direction, ownValues(trialId, step, value, history), step);
    if (mine === undefined) return true; // only non-finite values so far
    return better(this.direction, median(others), mine);
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

export interface AshaPrunerOptions {
  readonly direction?: Direction;
  /** Steps to the first rung (r; default 1). */
  readonly minResource?: number;
  /** eta (default 3): rung k is at r * eta^(s + k) steps and keeps the top 1/eta. */
  readonly reductionFactor?: number;
  /** s (default 0). */
  readonly minEarlyStoppingRate?: number;
}

/**
 * Asynchronous successive halving (Li et al. 2020, as in Optuna's SuccessiveHalvingPruner). A trial's value at a rung
 * is the value it reported at the first step >= the rung's resource. When a report takes a trial past a rung, it
 * continues only if that value is in the top floor(n / eta) of the n values recorded at that rung by all trials so far
 * (any state, itself included); while n < eta, only a trial that is the best so far at the rung continues (nothing can
 * be paused and resumed later, so this stands in for ASHA's "wait").
 */
export class AshaPruner implements Pruner {
  readonly direction: Direction;
  readonly minResource: number;
  readonly reductionFactor: number;
  readonly minEarlyStoppingRate: number;

  constructor(options: AshaPrunerOptions = {}) {
    this.direction = options.direction ?? 'maximize';
    this.minResource = options.minResource ?? 1;
    this.reductionFactor = options.reductionFactor ?? 3;
    this.minEarlyStoppingRate = options.minEarlyStoppingRate ?? 0;
    if (!(this.minResource > 0) || !(this.reductionFactor >= 2)) {
      throw new RangeError(`ASHA: minResource must be > 0 and reductionFactor >= 2 (got ${this.minResource}, ${this.reductionFactor})`);
    }
  }

  /** Steps at which rung k sits. */
  rungResource(k: number): number {
    return this.minResource * this.reductionFactor ** (this.minEarlyStoppingRate + k);
  }

  shouldPrune(trialId: number, step: number, value: number, history: readonly PrunerTrial[]): boolean {
    const own = ownValues(trialId, step, value, history);
    const prevStep = own.length >= 2 ? (own[own.length - 2]?.step ?? Number.NEGATIVE_INFINITY) : Number.NEGATIVE_INFINITY;
    for (let k = 0; this.rungResource(k) <= step; k++) {
      const r = this.rungResource(k);
      if (prevStep >= r) continue; // passed this rung at an earlier report
      if (!Number.isFinite(value)) return true;
      const competing = [value];
      for (const t of history) {
        if (t.id === trialId) continue;
        const rv = t.intermediate.find((iv) => iv.step >= r);
        if (rv !== undefined && Number.isFinite(rv.value)) competing.push(rv.value);
      }
      if (!this.promotable(value, competing)) return true;
    }
    return false;
  }

  private promotable(value: number, competing: number[]): boolean {
    let idx = Math.floor(competing.length / this.reductionFactor) - 1;
    if (idx < 0) idx = 0;
    competing.sort((a, b) => a - b);
    if (this.direction === 'maximize') return value >= (competing[competing.length - 1 - idx] ?? Number.NEGATIVE_INFINITY);
    return value <= (competing[idx] ?? Number.POSITIVE_INFINITY);
  }
}
