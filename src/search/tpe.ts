// Tree-structured Parzen Estimator, following HyperOpt's tpe.py (0.3.0) and its defaults:
// - the first nStartupJobs = 20 suggestions (counted over every trial in the history, as HyperOpt counts all docs)
//   are random draws from the prior;
// - then trials are ranked by loss and the best n_below = min(ceil(gamma * sqrt(N)), linearForgetting) form the
//   "good" group (gamma = 0.25, N = all trials in the history), the rest the "bad" group;
// - per parameter, independently: an adaptive Parzen mixture over each group (prior weight 1, linear forgetting 25,
//   HyperOpt's bandwidth rules, in log space for log parameters, truncated to the bounds); 24 candidates are drawn
//   from the good mixture and the one maximising log l(x) - log g(x) is suggested. Quantized values are scored by the
//   mass of their grid cell. Categoricals use counts (with forgetting weights) + prior pseudo-counts.
//
// Failed, pruned, running and pending trials carry no loss. HyperOpt gives such docs an infinite loss, so they land in
// the bad group g(x); we do the same, and additionally never let them into the good group (HyperOpt would when fewer
// than n_below trials have a loss): n_below is capped at the number of complete trials. Their parameter values thus
// raise g(x) where they were tried, and the sampler steers away from regions that fail (or were pruned, or are being
// evaluated right now by another worker: HyperOpt's pessimistic handling of in-flight trials).
//
// Deliberate differences from HyperOpt, all small:
// - log-scaled continuous parameters are normalised by the truncated mass like linear ones (HyperOpt's LGMM1_lpdf
//   skips the p_accept division for q = None, a known inconsistency);
// - quantized grids start at `low` (values low + k*q) and the end values own whole cells (HyperOpt rounds to
//   multiples of q and halves the end cells); `int` is a q = 1 uniform, so epochs 1..20 keep their order;
// - the PRNG is our own (sfc32), seeded by (seed, number of trials in the history, parameter name).

import { acceptMass, adaptiveParzenNormal, linearForgettingWeights, sampleTruncated, truncatedLogMass, truncatedLogPdf } from './parzen.ts';
import { sampleFromPrior } from './random.ts';
import { hashString, Rng } from './rng.ts';
import type { Sampler, SamplerTrial } from './sampler.ts';
import { cellOf, fromInternal, numericDomain, toInternal, type ParamSpec, type ParamValue, type Params, type SearchSpace } from './space.ts';

export interface TpeOptions {
  readonly seed: number;
  /** Random suggestions before the model is used (HyperOpt: 20). */
  readonly nStartupJobs?: number;
  /** Good-group size factor: n_below = ceil(gamma * sqrt(N)) (HyperOpt: 0.25). */
  readonly gamma?: number;
  /** Weight of the prior component / pseudo-count (HyperOpt: 1.0). */
  readonly priorWeight?: number;
  /** Candidates drawn from l(x) per parameter (HyperOpt: 24). */
  readonly nEiCandidates?: number;
  /** Newest observations at full weight; also caps n_below (HyperOpt: 25). */
  readonly linearForgetting?: number;
}

export const TPE_DEFAULTS = { nStartupJobs: 20, gamma: 0.25, priorWeight: 1, nEiCandidates: 24, linearForgetting: 25 } as const;

/** The good/bad split: indices (into the history) of the good group, chosen among trials with a finite loss. */
export function splitGoodBad(history: readonly SamplerTrial[], gamma: number, linearForgetting: number): Set<number> {
  const scored: { i: number; loss: number }[] = [];
  history.forEach((t, i) => {
    if (t.state === 'complete' && t.loss !== undefined && Number.isFinite(t.loss)) scored.push({ i, loss: t.loss });
  });
  const nBelow = Math.min(Math.ceil(gamma * Math.sqrt(history.length)), linearForgetting, scored.length);
  scored.sort((x, y) => x.loss - y.loss || x.i - y.i);
  return new Set(scored.slice(0, nBelow).map((s) => s.i));
}

export class TpeSampler implements Sampler {
  private readonly space: SearchSpace;
  private readonly seed: number;
  private readonly nStartupJobs: number;
  private readonly gamma: number;
  private readonly priorWeight: number;
  private readonly nEiCandidates: number;
  private readonly lf: number;

  constructor(space: SearchSpace, options: TpeOptions) {
    this.space = space;
    this.seed = options.seed;
    this.nStartupJobs = options.nStartupJobs ?? TPE_DEFAULTS.nStartupJobs;
    this.gamma = options.gamma ?? TPE_DEFAULTS.gamma;
    this.priorWeight = options.priorWeight ?? TPE_DEFAULTS.priorWeight;
    this.nEiCandidates = options.nEiCandidates ?? TPE_DEFAULTS.nEiCandidates;
    this.lf = options.linearForgetting ?? TPE_DEFAULTS.linearForgetting;
    if (!(this.gamma > 0) || !(this.priorWeight > 0) || !(this.nEiCandidates >= 1) || !(this.lf >= 1)) {
      throw new RangeError(`TPE options: gamma, priorWeight must be > 0 and nEiCandidates, linearForgetting >= 1 (got ${JSON.stringify(options)})`);
    }
  }

  suggest(history: readonly SamplerTrial[]): Params {
    if (history.length < this.nStartupJobs) return sampleFromPrior(this.space, new Rng(this.seed, history.length));
    const good = splitGoodBad(history, this.gamma, this.lf);
    const out: Record<string, ParamValue> = {};
    for (const spec of this.space.parameters) {
      const rng = new Rng(this.seed, history.length, hashString(spec.name));
      out[spec.name] = this.suggestParam(spec, history, good, rng);
    }
    return out;
  }

  private suggestParam(spec: ParamSpec, history: readonly SamplerTrial[], good: Set<number>, rng: Rng): ParamValue {
    if (spec.type === 'fixed') return spec.value;
    if (spec.type === 'categorical') return this.suggestCategorical(spec.choices, spec.name, history, good, rng);
    const d = numericDomain(spec);
    const below: number[] = [];
    const above: number[] = [];
    history.forEach((t, i) => {
      const v = t.params[spec.name];
      if (typeof v !== 'number' || !Number.isFinite(v)) return;
      (good.has(i) ? below : above).push(toInternal(d, v));
    });
    const priorMu = 0.5 * (d.a + d.b);
    const priorSigma = d.b - d.a;
    const l = adaptiveParzenNormal(below, this.priorWeight, priorMu, priorSigma, this.lf);
    const g = adaptiveParzenNormal(above, this.priorWeight, priorMu, priorSigma, this.lf);
    const logAcceptL = Math.log(acceptMass(l, d.a, d.b));
    const logAcceptG = Math.log(acceptMass(g, d.a, d.b));
    const score = (value: number, u: number): number => {
      if (d.q === undefined) return truncatedLogPdf(u, l, d.a, d.b, logAcceptL) - truncatedLogPdf(u, g, d.a, d.b, logAcceptG);
      const [lo, hi] = cellOf(d, value, d.q);
      return truncatedLogMass(lo, hi, l, logAcceptL) - truncatedLogMass(lo, hi, g, logAcceptG);
    };
    return bestOf(this.nEiCandidates, () => {
      const u = sampleTruncated(l, d.a, d.b, rng);
      const value = fromInternal(d, u);
      return { value, score: score(value, d.q === undefined ? toInternal(d, value) : u) };
    });
  }

  private suggestCategorical(choices: readonly ParamValue[], name: string, history: readonly SamplerTrial[], good: Set<number>, rng: Rng): ParamValue {
    const groups: [number[], number[]] = [[], []];
    history.forEach((t, i) => {
      const v = t.params[name];
      if (v === undefined) return;
      const idx = choices.indexOf(v);
      if (idx >= 0) groups[good.has(i) ? 0 : 1].push(idx);
    });
    const probs = groups.map((obs) => {
      const w = linearForgettingWeights(obs.length, this.lf);
      // tpe_cat_pseudocounts with uniform p: counts + K * priorWeight * (1/K)
      const pseudo = choices.map(() => this.priorWeight);
      obs.forEach((c, j) => {
        pseudo[c] = (pseudo[c] ?? 0) + (w[j] ?? 1);
      });
      const total = pseudo.reduce((s, x) => s + x, 0);
      return pseudo.map((x) => x / total);
    });
    const [pl, pg] = probs as [number[], number[]];
    return bestOf(this.nEiCandidates, () => {
      let u = rng.next();
      let k = 0;
      while (k < pl.length - 1 && u >= (pl[k] ?? 0)) {
        u -= pl[k] ?? 0;
        k++;
      }
      return { value: choices[k] ?? choices[0] ?? 0, score: Math.log(pl[k] ?? 1) - Math.log(pg[k] ?? 1) };
    });
  }
}

/** The first candidate with the highest score (np.argmax semantics) among n draws. */
function bestOf<T>(n: number, draw: () => { value: T; score: number }): T {
  let best = draw();
  for (let i = 1; i < n; i++) {
    const c = draw();
    if (c.score > best.score) best = c;
  }
  return best.value;
}
