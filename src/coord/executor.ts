// Where a trial's training runs. The study runner hands each trial to a TrialExecutor and hears back through
// callbacks; the executor owns a device, a model and the prepared data. The CLI uses LocalTrialExecutor (the engine
// in this thread, on a dawn.node device); the page wraps one trainer Web Worker per GPUDevice in the same interface
// (LocalTrialExecutor can run inside that worker unchanged: it imports only the engine).
import type { EncoderConfig } from '../engine/model/config.ts';
import type { ModelParams } from '../engine/model/params.ts';
import type { SplitView } from '../engine/train/batches.ts';
import type { MemoryPlan } from '../engine/train/memory.ts';
import { runTrial, type EvalPoint, type ProgressPoint, type TrialResult, type TrialSettings } from '../engine/train/run.ts';
import type { Params } from '../search/space.ts';
import type { ModelOverrides } from './params.ts';

export interface TrialRunRequest {
  readonly trialId: number;
  /** 1 on the first run; > 1 when a resume re-runs a trial that never finished. */
  readonly attempt: number;
  /** The search parameters as sampled (for display and logs; `settings` already holds them). */
  readonly params: Params;
  readonly settings: TrialSettings;
  readonly modelOverrides: ModelOverrides;
  /** Return the trained weights (TrialResult.weights) when the trial does not fail. */
  readonly keepWeights: boolean;
}

export interface TrialCallbacks {
  onPlan(plan: MemoryPlan): void;
  /** Training metrics, in order, a few at a time (every settings.logEvery steps and at evaluations). */
  onProgress(points: ProgressPoint[]): void;
  /** After each evaluation on the validation split; 'prune' ends the trial as pruned. May be async (a worker). */
  onEval(point: EvalPoint): Promise<'continue' | 'prune'>;
}

export interface TrialExecutor {
  /** Shown in logs and events, e.g. "gpu0" or "worker 2 (NVIDIA H100)". */
  readonly label: string;
  /**
   * Runs one trial to its end. Resolves with status complete, pruned, failed (with failureReason) or stopped (the
   * signal was aborted); it should reject only for a bug or a broken executor (the runner then records the trial as
   * failed with reason 'error' and keeps going with its other executors).
   */
  run(request: TrialRunRequest, callbacks: TrialCallbacks, signal: AbortSignal): Promise<TrialResult>;
}

export interface LocalModel {
  readonly config: EncoderConfig;
  readonly params: ModelParams;
  /** The starting weights (arena layout); every trial starts from these. */
  readonly arena: Float32Array;
}

/** Runs trials with the engine in this thread, one at a time, on `device`. */
export class LocalTrialExecutor implements TrialExecutor {
  private busy = false;

  constructor(
    readonly label: string,
    private readonly device: GPUDevice,
    private readonly model: LocalModel,
    private readonly data: { readonly train: SplitView; readonly validation: SplitView },
  ) {}

  async run(request: TrialRunRequest, callbacks: TrialCallbacks, signal: AbortSignal): Promise<TrialResult> {
    if (this.busy) throw new Error(`executor ${this.label}: run() while a trial is running (one trial per executor)`);
    this.busy = true;
    try {
      const config = { ...this.model.config, ...request.modelOverrides };
      return await runTrial(this.device, { config, params: this.model.params, arena: this.model.arena }, this.data, request.settings, {
        onPlan: (p) => callbacks.onPlan(p),
        onProgress: (points) => callbacks.onProgress(points),
        onEval: (point) => callbacks.onEval(point),
        shouldStop: () => signal.aborted,
      }, request.keepWeights);
    } finally {
      this.busy = false;
    }
  }
}
