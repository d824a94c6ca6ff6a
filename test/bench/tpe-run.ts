// Shared by tpe-compare.ts and the CI test: run samplers on the benchmark functions, run HyperOpt through python3,
// and summarise (median best-so-far; one-sided Mann-Whitney U).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RandomSampler } from '../../src/search/random.ts';
import type { Sampler, SamplerTrial } from '../../src/search/sampler.ts';
import type { SearchSpace } from '../../src/search/space.ts';
import { TpeSampler } from '../../src/search/tpe.ts';
import { BENCH_FUNCTIONS, type BenchFunction } from './tpe-functions.ts';

export type FunctionName = keyof typeof BENCH_FUNCTIONS;

/** Running minimum after each evaluation. */
export function runSampler(fn: BenchFunction, sampler: Sampler, evals: number): number[] {
  const history: SamplerTrial[] = [];
  const best: number[] = [];
  let m = Number.POSITIVE_INFINITY;
  for (let i = 0; i < evals; i++) {
    const params = sampler.suggest(history);
    const loss = fn.f(params);
    history.push({ params, state: 'complete', loss });
    m = Math.min(m, loss);
    best.push(m);
  }
  return best;
}

export type MethodName = 'tunelab-tpe' | 'hyperopt-tpe' | 'tunelab-random';

export function makeSampler(method: 'tunelab-tpe' | 'tunelab-random', space: SearchSpace, seed: number): Sampler {
  return method === 'tunelab-tpe' ? new TpeSampler(space, { seed }) : new RandomSampler(space, { seed });
}

/** best[function][seed] = running minimum, from test/bench/tpe_hyperopt.py. Rejects with python's stderr on failure. */
export function runHyperopt(functions: readonly FunctionName[], seeds: number, evals: number, algo: 'tpe' | 'rand' = 'tpe'): Promise<Map<string, number[][]>> {
  const script = fileURLToPath(new URL('./tpe_hyperopt.py', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [script, '--functions', functions.join(','), '--seeds', String(seeds), '--evals', String(evals), '--algo', algo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new Error(`python3 ${script}: ${e.message}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`python3 ${script} exited with ${code}: ${err.slice(-2000)}`));
        return;
      }
      const res = new Map<string, number[][]>();
      for (const line of out.split('\n')) {
        if (!line.trim()) continue;
        const rec = JSON.parse(line) as { function: string; seed: number; best: number[] };
        const arr = res.get(rec.function) ?? [];
        arr[rec.seed] = rec.best;
        res.set(rec.function, arr);
      }
      resolve(res);
    });
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

/** Values after `evals` evaluations across seeds. */
export function at(curves: readonly (readonly number[])[], evals: number): number[] {
  return curves.map((c) => c[evals - 1] ?? NaN);
}

/**
 * One-sided Mann-Whitney U test, normal approximation with tie correction: p-value for "x tends to be larger than y"
 * (larger = worse when minimising). Exact enough for n >= 8 per group.
 */
export function mannWhitneyGreater(x: readonly number[], y: readonly number[]): number {
  const all = [...x.map((v) => ({ v, g: 0 })), ...y.map((v) => ({ v, g: 1 }))].sort((a, b) => a.v - b.v);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]?.v === all[i]?.v) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[k] = r;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  let rx = 0;
  all.forEach((e, i) => {
    if (e.g === 0) rx += ranks[i] ?? 0;
  });
  const n1 = x.length;
  const n2 = y.length;
  const u = rx - (n1 * (n1 + 1)) / 2;
  const mu = (n1 * n2) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return 0.5;
  const z = (u - mu - 0.5) / sigma; // continuity correction
  return 0.5 * erfcApprox(z / Math.SQRT2);
}

function erfcApprox(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}
