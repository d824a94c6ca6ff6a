// Text -> token ids with a model folder's tokenizer.json (+ tokenizer_config.json) through
// @huggingface/tokenizers. Special tokens are added here, not by the file's post-processor, so every row
// has exactly one [CLS] first and one [SEP] last; truncation keeps the first maxLen-2 word pieces, as Python
// `tokenizers` does with truncation max_length=maxLen (HF `truncation=True`).
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizedSplit } from './types.ts';

export interface TokenizerFiles {
  /** Contents of tokenizer.json. */
  tokenizerJson: string;
  /** Contents of tokenizer_config.json (names the [CLS]/[SEP]/[PAD] tokens). */
  tokenizerConfigJson?: string;
}

/** encodeAll's output: TokenizedSplit without labels, plus each row's length before truncation. */
export interface EncodedTexts {
  ids: Uint16Array | Uint32Array;
  lengths: Uint16Array;
  /** Tokens (with [CLS] and [SEP]) each text would have without truncation. */
  fullLengths: Uint32Array;
  count: number;
  maxLen: number;
}

export type ProgressFn = (done: number, total: number) => void;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** tokenizer_config.json names a token as a string or as {content: "..."} (AddedToken). */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isRecord(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

export class TextTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** Largest id + 1, added tokens included: the embedding rows the model needs. */
  readonly vocabSize: number;
  private readonly tokenizer: Tokenizer;

  private constructor(tokenizer: Tokenizer, names: { cls: string; sep: string; pad: string }) {
    this.tokenizer = tokenizer;
    const id = (name: string): number => {
      const v = tokenizer.token_to_id(name);
      if (v === undefined) throw new Error(`tokenizer has no ${name} token`);
      return v;
    };
    this.clsId = id(names.cls);
    this.sepId = id(names.sep);
    this.padId = id(names.pad);
    let max = -1;
    for (const v of tokenizer.get_vocab(true).values()) max = Math.max(max, v);
    this.vocabSize = max + 1;
  }

  static fromFiles(files: TokenizerFiles): TextTokenizer {
    let json: unknown;
    let config: unknown = {};
    try {
      json = JSON.parse(files.tokenizerJson);
      if (files.tokenizerConfigJson !== undefined) config = JSON.parse(files.tokenizerConfigJson);
    } catch (e) {
      throw new Error(`tokenizer files are not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!isRecord(json) || !isRecord(json.model)) throw new Error('tokenizer.json has no "model" section');
    const cfg = isRecord(config) ? config : {};
    const names = {
      cls: tokenName(cfg.cls_token) ?? '[CLS]',
      sep: tokenName(cfg.sep_token) ?? '[SEP]',
      pad: tokenName(cfg.pad_token) ?? '[PAD]',
    };
    return new TextTokenizer(new Tokenizer(json, cfg), names);
  }

  /** Word-piece ids of a text without special tokens and without truncation. */
  wordPieces(text: string): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** [CLS] + first maxLen-2 word pieces + [SEP]. */
  encode(text: string, maxLen: number): number[] {
    const pieces = this.wordPieces(text);
    const keep = Math.min(pieces.length, maxLen - 2);
    return [this.clsId, ...pieces.slice(0, keep), this.sepId];
  }

  /** Encodes texts into a padded [count * maxLen] table. onProgress is called every 256 rows and at the end. */
  encodeAll(texts: readonly string[], maxLen: number, onProgress?: ProgressFn): EncodedTexts {
    if (!Number.isInteger(maxLen) || maxLen < 3 || maxLen > 65535) throw new RangeError(`maxLen must be an integer in 3..65535, got ${maxLen}`);
    const count = texts.length;
    const ids = this.vocabSize <= 65536 ? new Uint16Array(count * maxLen) : new Uint32Array(count * maxLen);
    if (this.padId !== 0) ids.fill(this.padId);
    const lengths = new Uint16Array(count);
    const fullLengths = new Uint32Array(count);
    for (let r = 0; r < count; r++) {
      const pieces = this.wordPieces(texts[r] ?? '');
      const keep = Math.min(pieces.length, maxLen - 2);
      const base = r * maxLen;
      ids[base] = this.clsId;
      for (let i = 0; i < keep; i++) ids[base + 1 + i] = pieces[i] ?? 0;
      ids[base + 1 + keep] = this.sepId;
      lengths[r] = keep + 2;
      fullLengths[r] = pieces.length + 2;
      if (onProgress !== undefined && ((r + 1) % 256 === 0 || r + 1 === count)) onProgress(r + 1, count);
    }
    if (count === 0) onProgress?.(0, 0);
    return { ids, lengths, fullLengths, count, maxLen };
  }
}

/** Rows of an encoded table (and their labels) gathered into a TokenizedSplit. */
export function gatherRows(enc: EncodedTexts, labels: Uint8Array, rows: ArrayLike<number>): TokenizedSplit {
  const { maxLen } = enc;
  const n = rows.length;
  const ids = enc.ids instanceof Uint16Array ? new Uint16Array(n * maxLen) : new Uint32Array(n * maxLen);
  const lengths = new Uint16Array(n);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i] ?? 0;
    ids.set(enc.ids.subarray(r * maxLen, (r + 1) * maxLen), i * maxLen);
    lengths[i] = enc.lengths[r] ?? 0;
    out[i] = labels[r] ?? 0;
  }
  return { ids, lengths, labels: out, count: n, maxLen };
}
