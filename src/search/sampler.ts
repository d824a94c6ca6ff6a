// The interface between a study and a sampler: the whole history in, one configuration out.

import type { Params } from './space.ts';

export type TrialState = 'pending' | 'running' | 'complete' | 'pruned' | 'failed';

/** One past or in-flight trial as a sampler sees it. `loss` (lower is better) is set for complete trials only. */
export interface SamplerTrial {
  readonly params: Params;
  readonly state: TrialState;
  readonly loss?: number;
}

/**
 * Suggests the next configuration. Implementations are pure functions of (their seed, the history): the same history
 * gives the same suggestion, so a resumed study continues exactly where it stopped.
 */
export interface Sampler {
  suggest(history: readonly SamplerTrial[]): Params;
}
