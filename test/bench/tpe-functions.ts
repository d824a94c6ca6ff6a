// Benchmark objectives for the TPE comparison (minimised). Kept identical to test/bench/tpe_hyperopt.py.
//   branin:    2-d, x1 in [-5, 10], x2 in [0, 15]; minimum 0.397887 (three optima)
//   hartmann6: 6-d in [0, 1]^6; minimum -3.32237
//   logcat:    learning rate (log 1e-5..1e-1), weight decay (log 1e-6..1e-1) and a categorical optimizer whose
//              choice shifts both the best learning rate and the floor; minimum 0 at adamw, lr 1e-3, wd 1e-4.

import { parseSearchSpace, type Params, type SearchSpace } from '../../src/search/space.ts';

export interface BenchFunction {
  readonly name: string;
  readonly space: SearchSpace;
  readonly optimum: number;
  readonly f: (p: Params) => number;
}

function num(p: Params, k: string): number {
  const v = p[k];
  if (typeof v !== 'number') throw new Error(`benchmark: parameter ${k} missing or not a number (${String(v)})`);
  return v;
}

export function branin(p: Params): number {
  const x1 = num(p, 'x1');
  const x2 = num(p, 'x2');
  const b = 5.1 / (4 * Math.PI ** 2);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
}

const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H6_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H6_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
];

export function hartmann6(p: Params): number {
  const x = [1, 2, 3, 4, 5, 6].map((i) => num(p, `x${i}`));
  let total = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += (H6_A[i]?.[j] ?? 0) * ((x[j] ?? 0) - (H6_P[i]?.[j] ?? 0) * 1e-4) ** 2;
    total += (H6_ALPHA[i] ?? 0) * Math.exp(-inner);
  }
  return -total;
}

const LOGCAT_CENTER: Record<string, number> = { sgd: -1.5, adam: -3.5, adamw: -3.0, rmsprop: -4.0 };
const LOGCAT_OFFSET: Record<string, number> = { sgd: 1.0, adam: 0.3, adamw: 0.0, rmsprop: 0.6 };

export function logcat(p: Params): number {
  const opt = p.optimizer;
  if (typeof opt !== 'string' || !(opt in LOGCAT_CENTER)) throw new Error(`benchmark: bad optimizer ${String(opt)}`);
  return (Math.log10(num(p, 'lr')) - (LOGCAT_CENTER[opt] ?? 0)) ** 2 + 0.5 * (Math.log10(num(p, 'wd')) + 4) ** 2 + (LOGCAT_OFFSET[opt] ?? 0);
}

const opts = { allowUnknown: true } as const;

export const BENCH_FUNCTIONS: Readonly<Record<'branin' | 'hartmann6' | 'logcat', BenchFunction>> = {
  branin: {
    name: 'branin',
    optimum: 0.397887,
    f: branin,
    space: parseSearchSpace({ x1: { type: 'uniform', low: -5, high: 10 }, x2: { type: 'uniform', low: 0, high: 15 } }, 'branin', opts),
  },
  hartmann6: {
    name: 'hartmann6',
    optimum: -3.32237,
    f: hartmann6,
    space: parseSearchSpace(Object.fromEntries([1, 2, 3, 4, 5, 6].map((i) => [`x${i}`, { type: 'uniform', low: 0, high: 1 }])), 'hartmann6', opts),
  },
  logcat: {
    name: 'logcat',
    optimum: 0,
    f: logcat,
    space: parseSearchSpace(
      {
        lr: { type: 'loguniform', low: 1e-5, high: 1e-1 },
        wd: { type: 'loguniform', low: 1e-6, high: 1e-1 },
        optimizer: { type: 'categorical', choices: ['sgd', 'adam', 'adamw', 'rmsprop'] },
      },
      'logcat',
      opts,
    ),
  },
};
