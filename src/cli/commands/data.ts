// `tunelab data`: validate, tokenize and cache a dataset, then print one JSON line of facts about it.
// Progress goes to stderr; a bad dataset prints the error (file:line: what) and exits with 2.
import { parseArgs } from 'node:util';
import { DataError } from '../../data/errors.ts';
import { prepareDataset, type PrepareProgress } from '../../data/prepare.ts';
import type { DataSourceSpec } from '../../data/sources.ts';
import { processIO, numFlag, UsageError, type CommandIO } from '../io.ts';
import { NodeDataFileSystem, NodeShardStore, readTokenizerFiles, shardCacheDir } from '../node-files.ts';

const USAGE = `usage: tunelab data --data SRC --model DIR [--max-len 192] [--val-fraction 0.1] [--seed 0]
  [--cache-dir D] [--text-column C] [--label-column C] [--rating-threshold 7]
  [--train-limit N] [--val-limit N] [--no-cache] [--json]
SRC: a folder with train.* (+ test.*), one file (JSONL, CSV, TSV, Parquet; .gz ok) or aclImdb_v1.tar.gz`;

export type DataCommandIO = CommandIO;
const num = numFlag;

export async function dataCommand(argv: string[], io: DataCommandIO = processIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' }, model: { type: 'string' }, 'max-len': { type: 'string' }, 'val-fraction': { type: 'string' },
        seed: { type: 'string' }, 'cache-dir': { type: 'string' }, 'text-column': { type: 'string' }, 'label-column': { type: 'string' },
        'rating-threshold': { type: 'string' }, 'train-limit': { type: 'string' }, 'val-limit': { type: 'string' },
        'no-cache': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    io.stderr(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  try {
    if (values.data === undefined || values.model === undefined) throw new UsageError('--data and --model are required');
    const maxLen = num('max-len', values['max-len'], true) ?? 192;
    const valFraction = num('val-fraction', values['val-fraction'], false) ?? 0.1;
    const seed = num('seed', values.seed, true) ?? 0;
    const ratingThreshold = num('rating-threshold', values['rating-threshold'], false);
    const trainLimit = num('train-limit', values['train-limit'], true);
    const valLimit = num('val-limit', values['val-limit'], true);
    const source: DataSourceSpec = {
      path: values.data,
      ...(values['text-column'] !== undefined ? { textColumn: values['text-column'] } : {}),
      ...(values['label-column'] !== undefined ? { labelColumn: values['label-column'] } : {}),
      ...(ratingThreshold !== undefined ? { ratingThreshold } : {}),
    };
    const tokenizerFiles = await readTokenizerFiles(values.model);
    let lastReport = 0;
    const onProgress = (p: PrepareProgress): void => {
      if (p.stage !== 'tokenize') {
        io.stderr(`data: ${p.stage}`);
        return;
      }
      const t = Date.now();
      if (p.done === p.total || t - lastReport > 2000) {
        lastReport = t;
        io.stderr(`data: tokenize ${p.split ?? ''} ${p.done ?? 0}/${p.total ?? 0}`);
      }
    };
    const r = await prepareDataset({
      fs: new NodeDataFileSystem(),
      source,
      tokenizerFiles,
      maxLen,
      valFraction,
      seed,
      ...(trainLimit !== undefined ? { trainLimit } : {}),
      ...(valLimit !== undefined ? { valLimit } : {}),
      ...(values['no-cache'] === true ? {} : { store: new NodeShardStore(shardCacheDir(values['cache-dir'])) }),
      onProgress,
    });
    const round = (x: number): number => Math.round(x * 1e4) / 1e4;
    io.stdout(JSON.stringify({
      rows: { train: r.train.count, validation: r.validation.count, ...(r.test ? { test: r.test.count } : {}) },
      source_rows: r.sourceRows,
      classes: { train: r.stats.train.classCounts, validation: r.stats.validation.classCounts, ...(r.stats.test ? { test: r.stats.test.classCounts } : {}) },
      skipped: { count: r.skipped.count, examples: r.skipped.examples.slice(0, 5) },
      max_len: r.maxLen,
      truncated_fraction: round(r.stats.train.truncatedFraction),
      token_length: r.stats.train.tokenLengths,
      vocab_size: r.vocabSize,
      cache_key: r.cacheKey,
      cached: r.cached,
      seconds: round(r.seconds),
    }));
    return 0;
  } catch (e) {
    if (e instanceof DataError || e instanceof UsageError) {
      io.stderr(`tunelab data: ${e.message}`);
      if (e instanceof UsageError) io.stderr(USAGE);
      return 2;
    }
    if (e instanceof RangeError) {
      io.stderr(`tunelab data: ${e.message}`);
      return 2;
    }
    if (e instanceof Error && /tokenizer/.test(e.message)) {
      io.stderr(`tunelab data: ${e.message}`);
      return 2;
    }
    throw e;
  }
}
