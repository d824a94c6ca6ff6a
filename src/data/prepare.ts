// The one entry point the trainer, the study and the CLI call: source -> validated -> tokenized (once,
// cached) -> seeded stratified train/validation split (+ optional stratified limits) with statistics.
import { sha256Hex } from './bytes.ts';
import type { SkippedSummary } from './errors.ts';
import type { DataFileSystem } from './files.ts';
import { cacheKey, datasetHash, loadShards, saveShards, type CachedSplit, type ShardContents, type ShardStore } from './shards.ts';
import { loadSource, resolveSource, type DataSourceSpec } from './sources.ts';
import { stratifiedSplit, stratifiedSubset } from './split.ts';
import { splitStats, type SplitStats } from './stats.ts';
import { gatherRows, TextTokenizer, type TokenizerFiles } from './tokenize.ts';
import type { TokenizedSplit } from './types.ts';

export type PrepareStage = 'read' | 'cache' | 'parse' | 'tokenize' | 'store' | 'done';

export interface PrepareProgress {
  stage: PrepareStage;
  /** While tokenizing: which split, rows done and total. */
  split?: string;
  done?: number;
  total?: number;
}

export interface PrepareOptions {
  fs: DataFileSystem;
  /** A folder/file path, or the path with column and validation options. */
  source: string | DataSourceSpec;
  tokenizerFiles: TokenizerFiles;
  maxLen: number;
  /** Fraction of train held out for validation, per class. Default 0.1. */
  valFraction?: number;
  /** Seed of the split and of the limit subsets. Default 0. */
  seed?: number;
  /** Stratified subset of the training rows, drawn after the split. */
  trainLimit?: number;
  /** Stratified subset of the validation rows, drawn after the split. */
  valLimit?: number;
  /** With train/val limits, test is tokenized only when this is given (rows; >= test size keeps all). */
  testLimit?: number;
  store?: ShardStore;
  onProgress?: (p: PrepareProgress) => void;
}

export interface PreparedStats {
  train: SplitStats;
  validation: SplitStats;
  test?: SplitStats;
}

export interface PreparedDataset {
  train: TokenizedSplit;
  validation: TokenizedSplit;
  test?: TokenizedSplit;
  stats: PreparedStats;
  skipped: SkippedSummary;
  /** Usable rows in the source files before splitting and limits. */
  sourceRows: { train: number; test?: number };
  cacheKey: string;
  /** True when the token ids came from the shard store. */
  cached: boolean;
  seconds: number;
  numClasses: 2;
  vocabSize: number;
  maxLen: number;
}

/** Facts stored with the shards so a cache hit reports the same as the run that built it. */
interface PreparedMeta {
  skipped: SkippedSummary;
  vocabSize: number;
  sourceRows: { train: number; test?: number };
}

function isMeta(v: unknown): v is PreparedMeta {
  if (typeof v !== 'object' || v === null) return false;
  const m = v as Partial<PreparedMeta>;
  return typeof m.vocabSize === 'number' && typeof m.skipped?.count === 'number' && Array.isArray(m.skipped.examples) && typeof m.sourceRows?.train === 'number';
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

export async function prepareDataset(opts: PrepareOptions): Promise<PreparedDataset> {
  const t0 = now();
  const spec: DataSourceSpec = typeof opts.source === 'string' ? { path: opts.source } : opts.source;
  const valFraction = opts.valFraction ?? 0.1;
  const seed = opts.seed ?? 0;
  const { maxLen } = opts;
  if (!Number.isInteger(maxLen) || maxLen < 3 || maxLen > 65535) throw new RangeError(`maxLen must be an integer in 3..65535, got ${maxLen}`);
  if (!(valFraction > 0 && valFraction < 1)) throw new RangeError(`valFraction must be in (0, 1), got ${valFraction}`);
  const progress = opts.onProgress ?? ((): void => undefined);

  progress({ stage: 'read' });
  const files = await resolveSource(opts.fs, spec.path);
  const roles = [{ role: 'train', bytes: files.train.bytes }, ...(files.test ? [{ role: 'test', bytes: files.test.bytes }] : [])];
  const limited = opts.trainLimit !== undefined || opts.valLimit !== undefined || opts.testLimit !== undefined;
  const key = await cacheKey({
    datasetHash: await datasetHash(roles),
    tokenizerHash: await sha256Hex(opts.tokenizerFiles.tokenizerJson),
    maxLen,
    variant: {
      textColumn: spec.textColumn, labelColumn: spec.labelColumn, ratingThreshold: spec.ratingThreshold,
      maxSkippedFraction: spec.maxSkippedFraction,
      ...(limited ? { seed, valFraction, trainLimit: opts.trainLimit, valLimit: opts.valLimit, testLimit: opts.testLimit } : {}),
    },
  });

  let contents: ShardContents<PreparedMeta> | null = null;
  if (opts.store) {
    progress({ stage: 'cache' });
    const hit = await loadShards<unknown>(opts.store, key);
    if (hit !== null && isMeta(hit.meta)) contents = { splits: hit.splits, meta: hit.meta };
  }
  const cached = contents !== null;

  if (contents === null) {
    progress({ stage: 'parse' });
    const data = await loadSource(files, { ...spec, skipTest: limited && opts.testLimit === undefined });
    const tokenizer = TextTokenizer.fromFiles(opts.tokenizerFiles);
    const encode = (name: string, texts: string[], labels: Uint8Array): CachedSplit => ({
      ...tokenizer.encodeAll(texts, maxLen, (done, total) => progress({ stage: 'tokenize', split: name, done, total })),
      labels,
    });
    const pick = (texts: string[], labels: Uint8Array, rows: Uint32Array): [string[], Uint8Array] =>
      [Array.from(rows, (r) => texts[r] ?? ''), Uint8Array.from(rows, (r) => labels[r] ?? 0)];
    const splits: Record<string, CachedSplit> = {};
    if (!limited) {
      // Whole train file in file order; the split is redone from the labels on every call (cheap).
      splits.all = encode('train', data.train.texts, data.train.labels);
      if (data.test) splits.test = encode('test', data.test.texts, data.test.labels);
    } else {
      const split = stratifiedSplit(data.train.labels, valFraction, seed);
      const trainRows = opts.trainLimit !== undefined ? stratifiedSubset(split.train, data.train.labels, opts.trainLimit, seed) : split.train;
      const valRows = opts.valLimit !== undefined ? stratifiedSubset(split.validation, data.train.labels, opts.valLimit, seed + 1) : split.validation;
      splits.train = encode('train', ...pick(data.train.texts, data.train.labels, trainRows));
      splits.validation = encode('validation', ...pick(data.train.texts, data.train.labels, valRows));
      if (data.test && opts.testLimit !== undefined) {
        const all = Uint32Array.from({ length: data.test.labels.length }, (_, i) => i);
        const testRows = stratifiedSubset(all, data.test.labels, opts.testLimit, seed + 2);
        splits.test = encode('test', ...pick(data.test.texts, data.test.labels, testRows));
      }
    }
    const sourceRows = data.test ? { train: data.train.texts.length, test: data.test.texts.length } : { train: data.train.texts.length };
    contents = { splits, meta: { skipped: data.skipped, vocabSize: tokenizer.vocabSize, sourceRows } };
    if (opts.store) {
      progress({ stage: 'store' });
      await saveShards(opts.store, key, contents);
    }
  }

  const out = assemble(contents, valFraction, seed);
  progress({ stage: 'done' });
  const base = {
    train: out.train, validation: out.validation, skipped: contents.meta.skipped, sourceRows: contents.meta.sourceRows,
    cacheKey: key, cached, seconds: (now() - t0) / 1000, numClasses: 2 as const, vocabSize: contents.meta.vocabSize, maxLen,
  };
  const stats = { train: out.stats.train, validation: out.stats.validation };
  return out.test && out.stats.test ? { ...base, test: out.test, stats: { ...stats, test: out.stats.test } } : { ...base, stats };
}

interface Assembled {
  train: TokenizedSplit;
  validation: TokenizedSplit;
  test?: TokenizedSplit;
  stats: PreparedStats;
}

function all(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}

function take(s: CachedSplit, rows: Uint32Array): { split: TokenizedSplit; stats: SplitStats } {
  const split = gatherRows(s, s.labels, rows);
  const full = Uint32Array.from(rows, (r) => s.fullLengths[r] ?? 0);
  return { split, stats: splitStats(split.labels, full, s.maxLen) };
}

/** Cached splits -> the splits the trainer gets: the full-train entry is split here; a subset entry is used as is. */
function assemble(contents: ShardContents<PreparedMeta>, valFraction: number, seed: number): Assembled {
  const { splits } = contents;
  let train: { split: TokenizedSplit; stats: SplitStats };
  let validation: { split: TokenizedSplit; stats: SplitStats };
  if (splits.all !== undefined) {
    const idx = stratifiedSplit(splits.all.labels, valFraction, seed);
    train = take(splits.all, idx.train);
    validation = take(splits.all, idx.validation);
  } else if (splits.train !== undefined && splits.validation !== undefined) {
    train = take(splits.train, all(splits.train.count));
    validation = take(splits.validation, all(splits.validation.count));
  } else {
    throw new Error('shard entry holds neither "all" nor "train"+"validation"');
  }
  const test = splits.test !== undefined ? take(splits.test, all(splits.test.count)) : undefined;
  const stats: PreparedStats = { train: train.stats, validation: validation.stats, ...(test ? { test: test.stats } : {}) };
  return { train: train.split, validation: validation.split, ...(test ? { test: test.split } : {}), stats };
}
