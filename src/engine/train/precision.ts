// Dynamic loss scaling for mixed precision, with torch.amp.GradScaler's defaults and semantics. The state lives on the
// GPU (optimizer.wgsl OptState): the cross-entropy kernel multiplies dlogits by the scale, the optimizer's finalize
// kernel divides it out, skips a step whose gradients are not finite and updates the scale; nothing is read back.
import type { Precision } from '../model/encoder.ts';

export interface LossScaleConfig {
  /** Scale of the first step (GradScaler init_scale 2^16). */
  init: number;
  /** Multiplier after `growthInterval` finite steps in a row (2). */
  growthFactor: number;
  /** Multiplier on a step with non-finite gradients, which is skipped (0.5). */
  backoffFactor: number;
  growthInterval: number;
}

export const GRAD_SCALER_DEFAULTS: LossScaleConfig = { init: 2 ** 16, growthFactor: 2, backoffFactor: 0.5, growthInterval: 2000 };

/** fp32 trains with a constant scale of 1 (no scaling: the multiplications by 1 are exact, so fp32 is unchanged). */
export function lossScaleFor(precision: Precision, overrides: Partial<LossScaleConfig> = {}): LossScaleConfig & { dynamic: boolean } {
  if (precision === 'fp32') return { init: 1, growthFactor: 1, backoffFactor: 1, growthInterval: 1, dynamic: false };
  return { ...GRAD_SCALER_DEFAULTS, ...overrides, dynamic: true };
}

/** Persistent non-finite steps under fp16 (GradScaler skips single ones; these end the trial as diverged). */
export interface SkipPolicy {
  /** Consecutive skipped steps that count as divergence: the loss scale has then fallen by backoff^N (2^-8 = 1/256)
   * without a finite step, so the overflow is not a scale problem. */
  maxConsecutive: number;
  /** More than this fraction of skipped steps within `window` steps counts as divergence. */
  maxFraction: number;
  window: number;
}

export const DEFAULT_SKIP_POLICY: SkipPolicy = { maxConsecutive: 8, maxFraction: 0.5, window: 20 };

/** Tracks skipped steps in submission order; `push` returns a message when the skips count as divergence. */
export class SkipTracker {
  private consecutive = 0;
  private readonly recent: boolean[] = [];
  constructor(private readonly policy: SkipPolicy = DEFAULT_SKIP_POLICY) {}

  push(step: number, skipped: boolean, lossScale: number): string | undefined {
    this.consecutive = skipped ? this.consecutive + 1 : 0;
    this.recent.push(skipped);
    if (this.recent.length > this.policy.window) this.recent.shift();
    if (this.consecutive >= this.policy.maxConsecutive) {
      return `step ${step + 1}: ${this.consecutive} consecutive steps with non-finite gradients (loss scale now ${lossScale})`;
    }
    const skips = this.recent.filter(Boolean).length;
    if (this.recent.length === this.policy.window && skips > this.policy.maxFraction * this.policy.window) {
      return `step ${step + 1}: ${skips} of the last ${this.policy.window} steps had non-finite gradients`;
    }
    return undefined;
  }
}
