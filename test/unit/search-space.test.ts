import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/search/rng.ts';
import {
  checkParams,
  DEFAULT_SEARCH_SPACE,
  ENGINE_PARAMETERS,
  numericDomain,
  parseSearchSpace,
  samplePrior,
  SearchSpaceError,
  searchSpaceToJSON,
  type ParamSpec,
} from '../../src/search/space.ts';

function issuesOf(json: unknown, options = {}): string[] {
  try {
    parseSearchSpace(json, 'search space', options);
  } catch (e) {
    if (e instanceof SearchSpaceError) return [...e.issues];
    throw e;
  }
  throw new Error('expected parseSearchSpace to throw');
}

describe('parseSearchSpace', () => {
  it('the default space: learning_rate, batch_size, weight_decay', () => {
    expect(DEFAULT_SEARCH_SPACE.parameters).toEqual([
      { name: 'learning_rate', type: 'loguniform', low: 1e-5, high: 1e-3 },
      { name: 'batch_size', type: 'categorical', choices: [16, 32] },
      { name: 'weight_decay', type: 'loguniform', low: 1e-6, high: 1e-2 },
    ]);
  });

  it('names the parameter and the field', () => {
    expect(issuesOf({ learning_rate: { type: 'loguniform', low: 0, high: 1e-3 } })).toContain(
      'search space: parameter "learning_rate": low must be > 0 for loguniform (got 0)',
    );
    expect(issuesOf({ dropout: { type: 'uniform', low: 0.3, high: 0.1 } })).toContain('search space: parameter "dropout": high must be > low (got low 0.3, high 0.1)');
    expect(issuesOf({ epochs: { type: 'int', low: 1.5, high: 3 } })).toContain('search space: parameter "epochs": low must be an integer for int (got 1.5)');
    expect(issuesOf({ batch_size: { type: 'categorical', choices: [] } })).toContain('search space: parameter "batch_size": choices must be a non-empty array');
    expect(issuesOf({ batch_size: { type: 'categorical', choices: [16, 16] } })).toContain('search space: parameter "batch_size": choices[1] duplicates 16');
    expect(issuesOf({ warmup_ratio: { type: 'quniform', low: 0, high: 0.2 } })).toContain('search space: parameter "warmup_ratio": q must be a finite number (got nothing)');
    expect(issuesOf({ learning_rate: { type: 'gaussian' } })[0]).toMatch(/parameter "learning_rate": type must be one of uniform, loguniform/);
    expect(issuesOf({ learning_rate: { type: 'uniform', low: 1e-5, high: 1e-3, step: 2 } })).toContain('search space: parameter "learning_rate": unknown field "step" for type uniform');
  });

  it('reports every problem at once', () => {
    const issues = issuesOf({ learning_rate: { type: 'loguniform', low: -1, high: 1e-3 }, dropout: { type: 'uniform', low: 0, high: 0.9 }, foo: 1 });
    expect(issues).toHaveLength(3);
  });

  it('rejects ranges the engine cannot run, before any trial', () => {
    expect(issuesOf({ dropout: { type: 'uniform', low: 0, high: 0.9 } })).toContain('search space: parameter "dropout": high must be in [0, 0.5] (got 0.9)');
    expect(issuesOf({ epochs: { type: 'int', low: 1, high: 50 } })).toContain('search space: parameter "epochs": high must be in [1, 20] (got 50)');
    expect(issuesOf({ batch_size: { type: 'categorical', choices: [16, 24.5] } })).toContain('search space: parameter "batch_size": choices[1] must be an integer in [1, 4096] (got 24.5)');
    expect(issuesOf({ batch_size: { type: 'uniform', low: 8, high: 64 } })[0]).toMatch(/takes integers/);
    expect(issuesOf({ max_grad_norm: 0 })).toContain('search space: parameter "max_grad_norm": value must be in (0, inf) (got 0)');
    expect(issuesOf({ adam_beta2: { type: 'uniform', low: 0.9, high: 1 } })).toContain('search space: parameter "adam_beta2": high must be in [0, 1) (got 1)');
    expect(issuesOf({ label_smoothing: { type: 'uniform', low: 0, high: 0.1 } })[0]).toMatch(/unknown parameter; the engine supports learning_rate, batch_size/);
  });

  it('accepts unknown names when asked, still range-checking known ones', () => {
    expect(parseSearchSpace({ x: { type: 'uniform', low: -5, high: 10 } }, 'bench', { allowUnknown: true }).parameters).toHaveLength(1);
    expect(issuesOf({ x: { type: 'uniform', low: -5, high: 10 }, dropout: 0.7 }, { allowUnknown: true })).toHaveLength(1);
  });

  it('round-trips through JSON, including fixed values and q', () => {
    const json = {
      learning_rate: { type: 'loguniform', low: 1e-5, high: 1e-3 },
      warmup_ratio: { type: 'quniform', low: 0, high: 0.2, q: 0.05 },
      epochs: { type: 'int', low: 1, high: 4 },
      seed: 7,
      batch_size: { type: 'qloguniform', low: 8, high: 64, q: 8 },
    };
    const space = parseSearchSpace(json);
    expect(parseSearchSpace(JSON.parse(JSON.stringify(searchSpaceToJSON(space))))).toEqual(space);
    expect(space.parameters[1]).toEqual({ name: 'warmup_ratio', type: 'uniform', low: 0, high: 0.2, q: 0.05 });
    expect(space.parameters[3]).toEqual({ name: 'seed', type: 'fixed', value: 7 });
  });

  it('lists the engine parameters with ranges', () => {
    const names = ENGINE_PARAMETERS.map((p) => p.name);
    for (const n of ['learning_rate', 'batch_size', 'weight_decay', 'warmup_ratio', 'epochs', 'dropout', 'attention_dropout', 'max_grad_norm', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'seed']) {
      expect(names).toContain(n);
    }
  });
});

describe('priors and grids', () => {
  const draws = (spec: ParamSpec, n: number): (number | string | boolean)[] => {
    const rng = new Rng(3);
    return Array.from({ length: n }, () => samplePrior(spec, rng));
  };

  it('int is inclusive and uniform over its values', () => {
    const xs = draws({ name: 'epochs', type: 'int', low: 1, high: 4 }, 4000) as number[];
    const counts = [1, 2, 3, 4].map((v) => xs.filter((x) => x === v).length);
    expect(new Set(xs)).toEqual(new Set([1, 2, 3, 4]));
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it('quantized values sit on the grid low + k*q and never pass high', () => {
    const spec: ParamSpec = { name: 'w', type: 'uniform', low: 0.1, high: 1, q: 0.25 };
    const xs = draws(spec, 2000) as number[];
    expect(new Set(xs)).toEqual(new Set([0.1, 0.35, 0.6, 0.85]));
    expect(numericDomain(spec as Extract<ParamSpec, { type: 'uniform' }>).max).toBe(0.85);
  });

  it('loguniform is uniform in log space', () => {
    const xs = draws({ name: 'lr', type: 'loguniform', low: 1e-5, high: 1e-1 }, 4000) as number[];
    const belowMid = xs.filter((x) => x < 1e-3).length;
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(1e-5);
    expect(Math.max(...xs)).toBeLessThanOrEqual(1e-1);
    expect(Math.abs(belowMid - 2000)).toBeLessThan(150);
  });
});

describe('checkParams (enqueued configs)', () => {
  it('rejects values the engine or the space cannot take, naming the parameter', () => {
    expect(checkParams({ learning_rate: 3e-5, batch_size: 32 }, DEFAULT_SEARCH_SPACE)).toEqual([]);
    expect(checkParams({ batch_size: 48 }, DEFAULT_SEARCH_SPACE)).toEqual(['config: parameter "batch_size": 48 is not one of the choices 16, 32']);
    expect(checkParams({ learning_rate: -1 }, DEFAULT_SEARCH_SPACE)).toEqual(['config: parameter "learning_rate": must be in (0, 1] (got -1)']);
    expect(checkParams({ dropout: 0.8 }, DEFAULT_SEARCH_SPACE)).toEqual(['config: parameter "dropout": must be in [0, 0.5] (got 0.8)']);
    expect(checkParams({ colour: 'red' }, DEFAULT_SEARCH_SPACE)).toEqual(['config: parameter "colour": not in the search space and not an engine parameter']);
  });
});
