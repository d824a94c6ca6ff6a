// Tokenizing all 50,000 IMDB reviews (train + test) with TuneLab (prepareDataset, cold) vs Python `tokenizers`
// (encode_batch) in the same run, the ids compared row by row, and the time to reopen the cached shards.
// Run from the repo root: npx tsx test/bench/tokenize-bench.ts [--max-len 192]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { prepareDataset, type PrepareProgress } from '../../src/data/prepare.ts';
import { loadShards } from '../../src/data/shards.ts';
import { NodeDataFileSystem, NodeShardStore, readTokenizerFiles } from '../../src/cli/node-files.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const IMDB = resolve(ROOT, '../shared/data/imdb');
const MODEL = resolve(ROOT, 'public/tokenizer/bert-base-uncased');
const { values } = parseArgs({ options: { 'max-len': { type: 'string', default: '192' } } });
const maxLen = Number(values['max-len']);
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-bench-'));

try {
  const tokenizerFiles = await readTokenizerFiles(MODEL);
  const store = new NodeShardStore(join(tmp, 'shards'));
  const fs = new NodeDataFileSystem();
  const marks = new Map<string, number>();
  const t0 = performance.now();
  const onProgress = (p: PrepareProgress): void => {
    const name = p.stage === 'tokenize' ? `tokenize ${p.split ?? ''}` : p.stage;
    if (!marks.has(name)) marks.set(name, performance.now());
    if (p.stage === 'tokenize' && p.done === p.total) marks.set(`${name} end`, performance.now());
  };
  const cold = await prepareDataset({ fs, source: IMDB, tokenizerFiles, maxLen, store, onProgress });
  const tokenizeStart = marks.get('tokenize train') ?? 0;
  const tokenizeEnd = marks.get('tokenize test end') ?? 0;
  const rows = cold.sourceRows.train + (cold.sourceRows.test ?? 0);

  const t1 = performance.now();
  const warm = await prepareDataset({ fs, source: IMDB, tokenizerFiles, maxLen, store });
  const warmSeconds = (performance.now() - t1) / 1000;
  const t2 = performance.now();
  const shards = await loadShards(store, cold.cacheKey);
  const reopenSeconds = (performance.now() - t2) / 1000;
  if (!warm.cached || shards === null) throw new Error('second prepareDataset did not hit the cache');

  // Python tokenizers on the same texts and tokenizer.json.
  const pyOut = join(tmp, 'py-ids.u16');
  const py = spawnSync('python3', [join(import.meta.dirname, 'tokenize-bench.py'), '--imdb', IMDB, '--tokenizer', join(MODEL, 'tokenizer.json'),
    '--max-len', String(maxLen), '--out', pyOut], { encoding: 'utf8' });
  if (py.status !== 0) throw new Error(`python failed: ${py.stderr}`);
  const pyResult = JSON.parse(py.stdout.trim().split('\n').pop() ?? '{}') as { rows: number; seconds: number; tokenizers: string; threads: string };
  const pyIds = new Uint16Array(new Uint8Array(readFileSync(pyOut)).buffer);
  const all = shards.splits.all;
  const test = shards.splits.test;
  if (all === undefined || test === undefined) throw new Error('cache entry lacks all/test splits');
  let mismatched = 0;
  let firstMismatch = -1;
  const n = maxLen;
  for (let r = 0; r < rows; r++) {
    const src = r < all.count ? all.ids.subarray(r * n, (r + 1) * n) : test.ids.subarray((r - all.count) * n, (r - all.count + 1) * n);
    const ref = pyIds.subarray(r * n, (r + 1) * n);
    for (let k = 0; k < n; k++) {
      if (src[k] !== ref[k]) {
        mismatched++;
        if (firstMismatch < 0) firstMismatch = r;
        break;
      }
    }
  }

  const tsTok = (tokenizeEnd - tokenizeStart) / 1000;
  console.log(JSON.stringify({
    config: { rows, maxLen, tokenizer: 'public/tokenizer/bert-base-uncased/tokenizer.json', node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, python_tokenizers: pyResult.tokenizers, python_threads: pyResult.threads },
    tunelab: {
      tokenize_seconds: +tsTok.toFixed(2), reviews_per_second: Math.round(rows / tsTok),
      prepare_cold_seconds: +cold.seconds.toFixed(2), read_parse_seconds: +((tokenizeStart - t0) / 1000).toFixed(2),
    },
    python_encode_batch: { seconds: +pyResult.seconds.toFixed(2), reviews_per_second: Math.round(pyResult.rows / pyResult.seconds) },
    ids_identical_rows: rows - mismatched, ids_mismatched_rows: mismatched, first_mismatch_row: firstMismatch,
    cache: { reopen_shards_seconds: +reopenSeconds.toFixed(3), prepare_cached_seconds: +warmSeconds.toFixed(2) },
    truncated_fraction_train: +cold.stats.train.truncatedFraction.toFixed(4), token_length_train: cold.stats.train.tokenLengths,
  }, null, 1));
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
