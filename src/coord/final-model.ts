// After the search: the data for retraining the best configuration on train + validation, and one evaluation pass
// of given weights over a split (the test split, used once, for the final model). Engine-only: runs in a worker too.
import type { EncoderConfig } from '../engine/model/config.ts';
import { EncoderClassifier } from '../engine/model/encoder.ts';
import type { ModelParams } from '../engine/model/params.ts';
import { evalBatches, type SplitView } from '../engine/train/batches.ts';
import { Trainer } from '../engine/train/trainer.ts';

/** Rows of `a` then rows of `b` (same padded length; ids widened to Uint32 if either is). */
export function concatSplits(a: SplitView, b: SplitView): SplitView {
  if (a.maxLen !== b.maxLen) throw new Error(`concatSplits: padded lengths differ (${a.maxLen} vs ${b.maxLen})`);
  const wide = a.ids instanceof Uint32Array || b.ids instanceof Uint32Array;
  const ids = wide ? new Uint32Array(a.ids.length + b.ids.length) : new Uint16Array(a.ids.length + b.ids.length);
  ids.set(a.ids, 0);
  ids.set(b.ids, a.ids.length);
  const lengths = new Uint16Array(a.count + b.count);
  lengths.set(a.lengths, 0);
  lengths.set(b.lengths, a.count);
  const labels = new Uint8Array(a.count + b.count);
  labels.set(a.labels, 0);
  labels.set(b.labels, a.count);
  return { ids, lengths, labels, count: a.count + b.count, maxLen: a.maxLen };
}

export interface SplitEvaluation {
  readonly accuracy: number;
  readonly loss: number;
  readonly rows: number;
}

/**
 * Loss and accuracy of `weights` (arena layout of `params`) over every row of `split`, in evaluation mode (no
 * dropout), in micro-batches of `batch` rows of `seqLen` tokens. Builds and frees its own GPU buffers.
 */
export async function evaluateSplit(device: GPUDevice, config: EncoderConfig, params: ModelParams, weights: Float32Array, split: SplitView, seqLen: number, batch: number): Promise<SplitEvaluation> {
  if (split.count === 0) throw new Error('evaluateSplit: the split is empty');
  const micro = Math.max(1, Math.min(batch, split.count));
  const encoder = new EncoderClassifier(device, config, params, { batch: micro, seqLen }, false, 'final/evaluate');
  // An inference Trainer: no gradient arena, so no optimizer is recorded; the hyperparameters are unused.
  const trainer = new Trainer(encoder, { lr: 0, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 0, totalSteps: 1 }, 1, 0);
  try {
    trainer.setWeights(weights);
    const r = await trainer.evaluate(evalBatches(split, micro, seqLen));
    return { accuracy: r.accuracy, loss: r.loss, rows: r.rows };
  } finally {
    trainer.destroy();
    encoder.destroy();
  }
}
