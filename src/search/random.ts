// Random search: independent draws from each parameter's prior (uniform in the internal coordinate).

import { Rng } from './rng.ts';
import type { Sampler, SamplerTrial } from './sampler.ts';
import { samplePrior, type ParamValue, type Params, type SearchSpace } from './space.ts';

/** Draws every parameter from its prior. The generator for trial n is stream n of the seed. */
export function sampleFromPrior(space: SearchSpace, rng: Rng): Params {
  const out: Record<string, ParamValue> = {};
  for (const p of space.parameters) out[p.name] = samplePrior(p, rng);
  return out;
}

export class RandomSampler implements Sampler {
  private readonly space: SearchSpace;
  private readonly seed: number;

  constructor(space: SearchSpace, options: { readonly seed: number }) {
    this.space = space;
    this.seed = options.seed;
  }

  suggest(history: readonly SamplerTrial[]): Params {
    return sampleFromPrior(this.space, new Rng(this.seed, history.length));
  }
}
