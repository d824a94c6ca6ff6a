// Adaptive Parzen estimators as in HyperOpt's tpe.py (0.2.7/0.3.0): the mixture construction
// (adaptive_parzen_normal with linear forgetting), truncated-mixture sampling and log densities.
// Coordinates here are internal ones (log x for log-scaled parameters).

import type { Rng } from './rng.ts';

/** A 1-d Gaussian mixture; weights sum to 1. */
export interface Mixture {
  readonly weights: readonly number[];
  readonly mus: readonly number[];
  readonly sigmas: readonly number[];
}

const EPS = 1e-12;
const LOG_TINY = -690; // log of ~1e-300: floor for masses that underflow, keeps log l - log g finite

/**
 * HyperOpt's linear_forgetting_weights: n observations in trial order; the newest lf get weight 1, the older
 * n - lf ramp linearly from 1/n to 1 (np.linspace(1/n, 1, n - lf)).
 */
export function linearForgettingWeights(n: number, lf: number): number[] {
  if (n <= 0) return [];
  if (n < lf) return new Array<number>(n).fill(1);
  const num = n - lf;
  const ramp: number[] = [];
  for (let i = 0; i < num; i++) ramp.push(num === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (num - 1));
  return [...ramp, ...new Array<number>(lf).fill(1)];
}

/**
 * HyperOpt's adaptive_parzen_normal: one component per observation plus the prior (mu = middle of the domain,
 * sigma = its width, weight priorWeight). Each observation's sigma is the larger gap to its sorted neighbours
 * (one-sided at the ends), clipped to [priorSigma / min(100, 1 + n_components), priorSigma]; a single observation
 * gets priorSigma / 2 before clipping. `obs` is in trial order (oldest first) so forgetting down-weights old ones.
 */
export function adaptiveParzenNormal(obs: readonly number[], priorWeight: number, priorMu: number, priorSigma: number, lf: number): Mixture {
  const n = obs.length;
  let mus: number[];
  let sigmas: number[];
  let priorPos: number;
  let order: number[] = [];
  if (n === 0) {
    mus = [priorMu];
    sigmas = [priorSigma];
    priorPos = 0;
  } else if (n === 1) {
    const o = obs[0] ?? priorMu;
    if (priorMu < o) {
      priorPos = 0;
      mus = [priorMu, o];
      sigmas = [priorSigma, priorSigma * 0.5];
    } else {
      priorPos = 1;
      mus = [o, priorMu];
      sigmas = [priorSigma * 0.5, priorSigma];
    }
    order = [0];
  } else {
    order = obs.map((_, i) => i).sort((i, j) => (obs[i] ?? 0) - (obs[j] ?? 0) || i - j);
    const sorted = order.map((i) => obs[i] ?? 0);
    // np.searchsorted(sorted, priorMu), side 'left': first index with sorted[i] >= priorMu
    priorPos = sorted.findIndex((v) => v >= priorMu);
    if (priorPos < 0) priorPos = n;
    mus = [...sorted.slice(0, priorPos), priorMu, ...sorted.slice(priorPos)];
    const m = mus.length;
    sigmas = new Array<number>(m).fill(0);
    for (let i = 1; i < m - 1; i++) sigmas[i] = Math.max((mus[i] ?? 0) - (mus[i - 1] ?? 0), (mus[i + 1] ?? 0) - (mus[i] ?? 0));
    sigmas[0] = (mus[1] ?? 0) - (mus[0] ?? 0);
    sigmas[m - 1] = (mus[m - 1] ?? 0) - (mus[m - 2] ?? 0);
  }
  let weights: number[];
  if (lf > 0 && lf < n) {
    const unsorted = linearForgettingWeights(n, lf);
    const sortedW = order.map((i) => unsorted[i] ?? 1);
    weights = [...sortedW.slice(0, priorPos), priorWeight, ...sortedW.slice(priorPos)];
  } else {
    weights = new Array<number>(mus.length).fill(1);
    weights[priorPos] = priorWeight;
  }
  const maxSigma = priorSigma;
  const minSigma = priorSigma / Math.min(100, 1 + mus.length);
  sigmas = sigmas.map((s) => Math.min(maxSigma, Math.max(minSigma, s)));
  sigmas[priorPos] = priorSigma;
  const total = weights.reduce((s, w) => s + w, 0);
  return { weights: weights.map((w) => w / total), mus, sigmas };
}

/** erfc(x) with fractional error < 1.2e-7 (Numerical Recipes' Chebyshev fit). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(lo <= X < hi) for X ~ N(mu, sigma), accurate in both tails. */
export function normalMass(lo: number, hi: number, mu: number, sigma: number): number {
  if (!(hi > lo)) return 0;
  const s = Math.max(Math.SQRT2 * sigma, EPS);
  const z1 = (lo - mu) / s;
  const z2 = (hi - mu) / s;
  if (z1 >= 0) return 0.5 * (erfc(z1) - erfc(z2)); // upper tail: Q(lo) - Q(hi)
  if (z2 <= 0) return 0.5 * (erfc(-z2) - erfc(-z1)); // lower tail: Phi(hi) - Phi(lo)
  return 1 - 0.5 * erfc(-z1) - 0.5 * erfc(z2);
}

function logSumExp(xs: readonly number[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const x of xs) if (x > m) m = x;
  if (m === Number.NEGATIVE_INFINITY) return m;
  let s = 0;
  for (const x of xs) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** Mixture mass inside [a, b] (the truncation normaliser, HyperOpt's p_accept). */
export function acceptMass(mix: Mixture, a: number, b: number): number {
  let p = 0;
  mix.weights.forEach((w, k) => {
    p += w * normalMass(a, b, mix.mus[k] ?? 0, mix.sigmas[k] ?? 1);
  });
  return p;
}

/** log density at x of the mixture truncated to [a, b]. */
export function truncatedLogPdf(x: number, mix: Mixture, a: number, b: number, logAccept: number): number {
  const terms = mix.weights.map((w, k) => {
    const sigma = Math.max(mix.sigmas[k] ?? 1, EPS);
    const z = (x - (mix.mus[k] ?? 0)) / sigma;
    return Math.log(w) - Math.log(Math.sqrt(2 * Math.PI) * sigma) - 0.5 * z * z;
  });
  return Math.max(LOG_TINY, logSumExp(terms)) - logAccept;
}

/** log probability of the cell [lo, hi] under the mixture truncated to [a, b] (quantized parameters). */
export function truncatedLogMass(lo: number, hi: number, mix: Mixture, logAccept: number): number {
  let p = 0;
  mix.weights.forEach((w, k) => {
    p += w * normalMass(lo, hi, mix.mus[k] ?? 0, mix.sigmas[k] ?? 1);
  });
  return Math.max(LOG_TINY, p > 0 ? Math.log(p) : LOG_TINY) - logAccept;
}

/**
 * A draw from the mixture truncated to [a, b): pick a component by weight, draw, reject outside the bounds
 * (HyperOpt's GMM1/LGMM1 loop). Every component centre lies in [a, b] so acceptance is high; after 10,000
 * rejections (never seen) it falls back to a uniform draw.
 */
export function sampleTruncated(mix: Mixture, a: number, b: number, rng: Rng): number {
  for (let tries = 0; tries < 10_000; tries++) {
    let u = rng.next();
    let k = 0;
    while (k < mix.weights.length - 1 && u >= (mix.weights[k] ?? 0)) {
      u -= mix.weights[k] ?? 0;
      k++;
    }
    const x = (mix.mus[k] ?? 0) + (mix.sigmas[k] ?? 1) * rng.normal();
    if (x >= a && x < b) return x;
  }
  return a + (b - a) * rng.next();
}
