// prepareDataset end to end (source -> validate -> tokenize -> cache -> split) and the `tunelab data` command.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { MemoryFileSystem } from '../../src/data/files.ts';
import { prepareDataset, type PrepareProgress } from '../../src/data/prepare.ts';
import { MemoryShardStore } from '../../src/data/shards.ts';
import type { TokenizedSplit } from '../../src/data/types.ts';
import { dataCommand } from '../../src/cli/commands/data.ts';
import { NodeDataFileSystem } from '../../src/cli/node-files.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const MODEL = resolve(ROOT, 'public/tokenizer/bert-base-uncased');
const IMDB = resolve(ROOT, '../shared/data/imdb');
const tokenizerFiles = {
  tokenizerJson: readFileSync(join(MODEL, 'tokenizer.json'), 'utf8'),
  tokenizerConfigJson: readFileSync(join(MODEL, 'tokenizer_config.json'), 'utf8'),
};
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-prepare-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];
/** Unique texts (so token rows map back to source rows): "<w_a> <w_b> <w_c> great|awful". */
function synthetic(n: number, offset = 0): string {
  let s = '';
  for (let i = offset; i < offset + n; i++) {
    const label = i % 3 === 0 ? 1 : 0;
    const text = `${WORDS[i % 10]} ${WORDS[Math.floor(i / 10) % 10]} ${WORDS[Math.floor(i / 100) % 10]} ${label ? 'great' : 'awful'}`;
    s += `${JSON.stringify({ text, label })}\n`;
  }
  return s;
}

function rowKeys(s: TokenizedSplit): string[] {
  return Array.from({ length: s.count }, (_, r) => s.ids.subarray(r * s.maxLen, r * s.maxLen + (s.lengths[r] ?? 0)).join(','));
}

function ones(s: TokenizedSplit): number {
  return s.labels.reduce((a, v) => a + v, 0);
}

describe('prepareDataset', () => {
  const enc = new TextEncoder();
  const fs = new MemoryFileSystem([['d/train.jsonl', enc.encode(synthetic(600))], ['d/test.jsonl', enc.encode(synthetic(90, 600))]]);

  it('tokenizes once, caches, and reopens identical splits from the cache', async () => {
    const store = new MemoryShardStore();
    const stages: string[] = [];
    const a = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 3, store, onProgress: (p: PrepareProgress) => stages.push(p.stage) });
    expect(a.cached).toBe(false);
    expect(stages).toContain('tokenize');
    expect(a.sourceRows).toEqual({ train: 600, test: 90 });
    expect([a.train.count, a.validation.count, a.test?.count]).toEqual([540, 60, 90]);
    expect(ones(a.validation)).toBe(20); // 200 positives * 0.1
    expect(a.stats.validation.classCounts).toEqual([40, 20]);
    expect(a.vocabSize).toBe(30522);
    expect(a.train.ids).toBeInstanceOf(Uint16Array);
    expect(a.train.ids.length).toBe(540 * 16);
    // "[CLS] w w w great|awful [SEP]": 6 to 10 tokens, no truncation at 16
    expect(a.stats.train.tokenLengths.max).toBeGreaterThanOrEqual(6);
    expect(a.stats.train.tokenLengths.max).toBeLessThanOrEqual(16);
    expect(a.stats.train.truncatedFraction).toBe(0);
    const trainRows = new Set(rowKeys(a.train));
    for (const k of rowKeys(a.validation)) expect(trainRows.has(k)).toBe(false);

    const b = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 3, store });
    expect(b.cached).toBe(true);
    expect(b.cacheKey).toBe(a.cacheKey);
    expect(b.train).toEqual(a.train);
    expect(b.validation).toEqual(a.validation);
    expect(b.test).toEqual(a.test);
    expect(b.stats).toEqual(a.stats);

    // The split is not part of the full-data key: another seed reuses the tokens and draws another validation set.
    const c = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 4, store });
    expect(c.cached).toBe(true);
    expect(rowKeys(c.validation)).not.toEqual(rowKeys(a.validation));
    const d = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 5, seed: 3, store });
    expect(d.cached).toBe(false);
    expect(d.cacheKey).not.toBe(a.cacheKey);
    expect(d.stats.train.truncatedFraction).toBe(1);
    expect(Math.max(...d.train.lengths)).toBe(5);
  });

  it('limits draw stratified subsets after the split: validation never overlaps train, train never includes validation rows', async () => {
    const store = new MemoryShardStore();
    const full = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 5 });
    const lim = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 5, trainLimit: 90, valLimit: 30, store });
    expect([lim.train.count, lim.validation.count, lim.test]).toEqual([90, 30, undefined]);
    expect(ones(lim.train)).toBe(30);
    expect(ones(lim.validation)).toBe(10);
    const fullTrain = new Set(rowKeys(full.train));
    const fullVal = new Set(rowKeys(full.validation));
    for (const k of rowKeys(lim.train)) expect(fullTrain.has(k)).toBe(true);
    for (const k of rowKeys(lim.validation)) expect(fullVal.has(k)).toBe(true);
    expect(lim.cacheKey).not.toBe(full.cacheKey);
    const again = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 5, trainLimit: 90, valLimit: 30, store });
    expect(again.cached).toBe(true);
    expect(again.train).toEqual(lim.train);
    const withTest = await prepareDataset({ fs, source: 'd', tokenizerFiles, maxLen: 16, seed: 5, trainLimit: 90, testLimit: 45 });
    expect(withTest.test?.count).toBe(45);
    expect(withTest.test ? ones(withTest.test) : -1).toBe(15);
  });

  it('IMDB (shared folder) with limits: 1000 train + 250 validation rows, balanced, ids < vocab', async () => {
    expect(existsSync(join(IMDB, 'train.jsonl.gz')), `IMDB missing at ${IMDB} (../shared/data/imdb/)`).toBe(true);
    const r = await prepareDataset({ fs: new NodeDataFileSystem(), source: IMDB, tokenizerFiles, maxLen: 192, seed: 0, trainLimit: 1000, valLimit: 250 });
    expect([r.train.count, r.validation.count]).toEqual([1000, 250]);
    expect(r.sourceRows).toEqual({ train: 25000 }); // test is not read when limits apply without testLimit
    expect(r.stats.train.classCounts).toEqual([500, 500]);
    expect(r.stats.validation.classCounts).toEqual([125, 125]);
    expect(r.skipped.count).toBe(0);
    // IMDB reviews: median ~ 230 word pieces, so roughly 55-65% are cut at 192.
    expect(r.stats.train.tokenLengths.p50).toBeGreaterThan(180);
    expect(r.stats.train.truncatedFraction).toBeGreaterThan(0.4);
    expect(r.stats.train.truncatedFraction).toBeLessThan(0.8);
    let maxId = 0;
    for (const v of r.train.ids) maxId = Math.max(maxId, v);
    expect(maxId).toBeLessThan(r.vocabSize);
    const badRows: number[] = [];
    for (let i = 0; i < r.train.count; i++) {
      const len = r.train.lengths[i] ?? 0;
      const row = r.train.ids.subarray(i * 192, (i + 1) * 192);
      if (row[0] !== 101 || row[len - 1] !== 102 || row.subarray(len).some((v) => v !== 0)) badRows.push(i);
    }
    expect(badRows, 'rows without [CLS] first, [SEP] last and 0 padding').toEqual([]);
  });
});

describe('tunelab data', () => {
  function capture(): { out: string[]; err: string[]; io: { stdout: (s: string) => void; stderr: (s: string) => void } } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (s) => out.push(s), stderr: (s) => err.push(s) } };
  }

  it('prints one JSON line; the second run reports cached:true', async () => {
    expect(existsSync(join(IMDB, 'train.jsonl.gz')), `IMDB missing at ${IMDB}`).toBe(true);
    // 1000 reviews of each class from IMDB train, as a gzipped JSONL file in a folder.
    const lines = gunzipSync(readFileSync(join(IMDB, 'train.jsonl.gz'))).toString('utf8').split('\n').filter((l) => l !== '');
    const dir = join(tmp, 'imdb-small');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'train.jsonl.gz'), gzipSync([...lines.slice(0, 1000), ...lines.slice(-1000)].join('\n')));
    const args = ['--data', dir, '--model', MODEL, '--max-len', '128', '--cache-dir', join(tmp, 'cache'), '--seed', '1', '--json'];
    const first = capture();
    expect(await dataCommand(args, first.io)).toBe(0);
    expect(first.out).toHaveLength(1);
    const a = JSON.parse(first.out[0] ?? '') as Record<string, unknown>;
    expect(a).toMatchObject({ rows: { train: 1800, validation: 200 }, classes: { train: [900, 900], validation: [100, 100] }, cached: false, max_len: 128 });
    expect(a.cache_key).toMatch(/^[0-9a-f]{64}$/);
    expect(first.err.some((l) => l.startsWith('data: tokenize train 2000/2000'))).toBe(true);
    const second = capture();
    expect(await dataCommand(args, second.io)).toBe(0);
    const b = JSON.parse(second.out[0] ?? '') as Record<string, unknown>;
    expect(b).toMatchObject({ cached: true, cache_key: a.cache_key, rows: a.rows, token_length: a.token_length, truncated_fraction: a.truncated_fraction });
  });

  it('a bad file exits 2 with file:line on stderr and nothing on stdout', async () => {
    const io = capture();
    const bad = resolve(ROOT, 'test/fixtures/data/three-classes.jsonl');
    expect(await dataCommand(['--data', bad, '--model', MODEL, '--no-cache'], io.io)).toBe(2);
    expect(io.out).toEqual([]);
    expect(io.err.join('\n')).toContain(`${bad}:5 (column label): label column has more than 2 classes`);
  });

  it('usage errors exit 2', async () => {
    const io = capture();
    expect(await dataCommand(['--model', MODEL], io.io)).toBe(2);
    expect(io.err.join('\n')).toMatch(/--data and --model are required/);
    expect(await dataCommand(['--data', 'x', '--model', MODEL, '--max-len', 'big'], capture().io)).toBe(2);
  });
});
