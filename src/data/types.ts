// Shapes shared by the data path and its consumers (engine, study, CLI, UI).

/**
 * Token ids of one split as the engine consumes them.
 * ids: [count * maxLen] row-major; each row is [CLS] t1 .. tn [SEP] then 0 (= [PAD]) padding.
 * Uint16Array while the vocabulary has at most 65536 entries, else Uint32Array.
 */
export interface TokenizedSplit {
  ids: Uint16Array | Uint32Array;
  /** [count] real tokens per row including [CLS] and [SEP] (<= maxLen). */
  lengths: Uint16Array;
  /** [count] class index 0..numClasses-1. */
  labels: Uint8Array;
  count: number;
  maxLen: number;
}

/** A split's texts after validation: label 1 = positive. `where` locates each row for messages. */
export interface LabelledTexts {
  texts: string[];
  labels: Uint8Array;
}
