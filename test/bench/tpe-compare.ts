// TuneLab TPE vs HyperOpt TPE (python, same defaults: 20 start-up trials, gamma 0.25, 24 EI candidates, prior
// weight 1, linear forgetting 25) vs TuneLab random search, on Branin, Hartmann-6 and the log/categorical "logcat".
// Prints the median (over seeds) of the best value after 25, 50 and 100 evaluations, and the one-sided Mann-Whitney
// p-value that TuneLab TPE's final best is worse than HyperOpt's.
//
// usage: npx tsx test/bench/tpe-compare.ts [--seeds 20] [--evals 100] [--functions branin,hartmann6,logcat]

import { at, makeSampler, mannWhitneyGreater, median, runHyperopt, runSampler, type FunctionName } from './tpe-run.ts';
import { BENCH_FUNCTIONS } from './tpe-functions.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const seeds = Number(arg('seeds', '20'));
const evals = Number(arg('evals', '100'));
const functions = arg('functions', 'branin,hartmann6,logcat').split(',') as FunctionName[];
const checkpoints = [25, 50, 100].filter((c) => c <= evals);

const t0 = performance.now();
const hyperopt = await runHyperopt(functions, seeds, evals, 'tpe');
const tHyperopt = performance.now() - t0;

const fmt = (x: number): string => x.toFixed(4).padStart(10);
console.log(`median best value over ${seeds} seeds (minimising), after N evaluations`);
console.log(`${'function'.padEnd(10)} ${'method'.padEnd(15)} ${checkpoints.map((c) => `N=${c}`.padStart(10)).join(' ')}   p(ours worse than hyperopt)`);
let tOurs = 0;
for (const name of functions) {
  const fn = BENCH_FUNCTIONS[name];
  const curves: Record<string, number[][]> = { 'tunelab-tpe': [], 'tunelab-random': [], 'hyperopt-tpe': hyperopt.get(name) ?? [] };
  const t1 = performance.now();
  for (let s = 0; s < seeds; s++) {
    curves['tunelab-tpe']?.push(runSampler(fn, makeSampler('tunelab-tpe', fn.space, s), evals));
    curves['tunelab-random']?.push(runSampler(fn, makeSampler('tunelab-random', fn.space, s), evals));
  }
  tOurs += performance.now() - t1;
  for (const method of ['tunelab-tpe', 'hyperopt-tpe', 'tunelab-random']) {
    const c = curves[method] ?? [];
    const cells = checkpoints.map((n) => fmt(median(at(c, n)))).join(' ');
    let extra = '';
    if (method === 'tunelab-tpe') {
      extra = checkpoints.map((n) => `N=${n}: ${mannWhitneyGreater(at(c, n), at(curves['hyperopt-tpe'] ?? [], n)).toFixed(2)}`).join('  ');
    }
    console.log(`${name.padEnd(10)} ${method.padEnd(15)} ${cells}   ${extra}`);
  }
  console.log(`${''.padEnd(10)} ${'(optimum)'.padEnd(15)} ${fmt(fn.optimum)}`);
}
console.log(`time: hyperopt ${(tHyperopt / 1000).toFixed(1)} s (python), tunelab TPE + random ${(tOurs / 1000).toFixed(1)} s`);
