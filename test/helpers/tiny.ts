// A tiny seeded encoder and synthetic token splits for trial-level tests (SwiftShader is slow: keep shapes small).
import type { EncoderConfig } from '../../src/engine/model/config.ts';
import { initModel } from '../../src/engine/model/folder.ts';
import type { TrialModel } from '../../src/engine/train/run.ts';
import type { SplitView } from '../../src/engine/train/batches.ts';
import { Rng } from '../../src/engine/random.ts';

export function tinyConfig(over: Partial<EncoderConfig> = {}): EncoderConfig {
  return {
    arch: 'distilbert', vocabSize: 128, hidden: 32, layers: 1, heads: 2, ffn: 64, maxPositions: 256, typeVocab: 0, layerNormEps: 1e-12,
    hiddenDropout: 0.1, attentionDropout: 0.1, classifierDropout: 0.2, numLabels: 2, initializerRange: 0.02, padTokenId: 0, ...over,
  };
}

export function tinyModel(over: Partial<EncoderConfig> = {}, seed = 0): TrialModel {
  const config = tinyConfig(over);
  return { config, ...initModel(config, seed) };
}

/** `count` rows of random tokens (ids in [1, vocab)), [CLS]=1 first, lengths in [3, maxLen]; the label is 1 when the
 * first real token after [CLS] is in the upper half of the vocabulary (learnable). */
export function syntheticSplit(count: number, maxLen: number, vocab: number, seed: number): SplitView {
  const rng = new Rng(seed);
  const ids = new Uint16Array(count * maxLen), lengths = new Uint16Array(count), labels = new Uint8Array(count);
  for (let r = 0; r < count; r++) {
    const len = 3 + Math.floor(rng.next() * (maxLen - 2));
    lengths[r] = len;
    ids[r * maxLen] = 1;
    for (let t = 1; t < len; t++) ids[r * maxLen + t] = 2 + Math.floor(rng.next() * (vocab - 2));
    labels[r] = ids[r * maxLen + 1]! >= vocab / 2 ? 1 : 0;
  }
  return { ids, lengths, labels, count, maxLen };
}
