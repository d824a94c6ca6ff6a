// The data path in real Chromium: files picked through <input type=file> go to workers/data.worker.ts, are
// validated and tokenized there with progress, and cached in IndexedDB. Each browser result is compared with
// prepareDataset / loadSource run in Node on the same bytes (token ids, cache key, errors with file and line).
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { DataError } from '../../src/data/errors.ts';
import { prepareDataset, type PreparedDataset, type PrepareProgress } from '../../src/data/prepare.ts';
import { loadSource, resolveSource } from '../../src/data/sources.ts';
import type { TokenizedSplit } from '../../src/data/types.ts';
import type { OutboxEntry } from '../../src/tracking/outbox.ts';
import { NodeDataFileSystem, readTokenizerFiles } from '../../src/cli/node-files.ts';
import { isQuotaError, quotaError, StorageQuotaError } from '../../src/app/storage/quota.ts';
import { toDataProblem } from '../../workers/data.worker.ts';
import { REPO_ROOT, useBrowser } from '../helpers/browser.ts';
import type { PrepareArgs, RunResult, SplitSummary } from './pages/data-page.ts';

const IMDB = join(REPO_ROOT, '../shared/data/imdb');
const MODEL = join(REPO_ROOT, 'public/tokenizer/bert-base-uncased');
const FIXTURES = join(REPO_ROOT, 'test/fixtures/data');
const PAGE = '/test/e2e/pages/data.html';
const MAX_LEN = 128;

function imdbLines(file: string): string[] {
  const path = join(IMDB, file);
  if (!existsSync(path)) throw new Error(`IMDB missing at ${path} (../shared/data/imdb/ next to the repo)`);
  return gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l !== '');
}

const tmp = mkdtempSync(join(tmpdir(), 'tunelab-e2e-data-'));
const sampleDir = join(tmp, 'imdb-sample');
let node: PreparedDataset;

beforeAll(async () => {
  // 200 negative + 200 positive train reviews (gzipped, as the shared files are) and 60 test reviews.
  const train = imdbLines('train.jsonl.gz');
  const test = imdbLines('test.jsonl.gz');
  mkdirSync(sampleDir, { recursive: true });
  writeFileSync(join(sampleDir, 'train.jsonl.gz'), gzipSync([...train.slice(0, 200), ...train.slice(-200)].join('\n')));
  writeFileSync(join(sampleDir, 'test.jsonl'), [...test.slice(0, 30), ...test.slice(-30)].join('\n'));
  node = await prepareDataset({ fs: new NodeDataFileSystem(), source: sampleDir, tokenizerFiles: await readTokenizerFiles(MODEL), maxLen: MAX_LEN, seed: 0 });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function plain(s: TokenizedSplit): Omit<SplitSummary, 'idsType'> {
  return { count: s.count, maxLen: s.maxLen, ids: Array.from(s.ids), lengths: Array.from(s.lengths), labels: Array.from(s.labels) };
}
function strip(s: SplitSummary | null): Omit<SplitSummary, 'idsType'> | null {
  if (s === null) return null;
  const { idsType: _t, ...rest } = s;
  return rest;
}

async function open(page: Page): Promise<void> {
  await page.waitForFunction(() => window.dataTestReady === true, null, { timeout: 60_000 });
}

async function run(page: Page, args: PrepareArgs): Promise<RunResult> {
  return page.evaluate((a) => window.dataTest.run(a), args);
}

function ok(r: RunResult): Extract<RunResult, { ok: true }> {
  if (!r.ok) throw new Error(`prepare failed in the browser: ${JSON.stringify(r.error)}`);
  return r;
}

function expectSameAsNode(r: Extract<RunResult, { ok: true }>): void {
  expect(r.cacheKey).toBe(node.cacheKey);
  expect(r.train.idsType).toBe('Uint16Array');
  expect(strip(r.train)).toEqual(plain(node.train));
  expect(strip(r.validation)).toEqual(plain(node.validation));
  expect(strip(r.test)).toEqual(node.test ? plain(node.test) : null);
  expect(r.stats).toEqual(node.stats);
}

describe('quota errors (Node: the same DOMException a browser throws)', () => {
  it('QuotaExceededError becomes a StorageQuotaError with the bytes needed and the room left', async () => {
    const cause = new DOMException('The quota has been exceeded.', 'QuotaExceededError');
    expect(isQuotaError(cause)).toBe(true);
    expect(isQuotaError(new DOMException('x', 'AbortError'))).toBe(false);
    const e = new StorageQuotaError('dataset shards 1a2b', 3 * 1024 * 1024, { usageBytes: 9 * 1024 ** 2, quotaBytes: 10 * 1024 ** 2 }, { cause });
    expect(e.message).toBe('browser storage is full: storing dataset shards 1a2b needs 3.0 MiB; this site uses 9.0 MiB of the 10.0 MiB the browser allows (1.0 MiB free). Clear old dataset caches or free disk space.');
    expect(toDataProblem(e)).toMatchObject({ kind: 'quota', neededBytes: 3 * 1024 * 1024, usageBytes: 9 * 1024 ** 2, quotaBytes: 10 * 1024 ** 2 });
    expect((await quotaError('x', 10, cause)).neededBytes).toBe(10);
  });
});

describe('data worker in Chromium', () => {
  const b = useBrowser();
  const DB = 'tunelab-e2e-data';
  const sampleFiles = (): string[] => [join(sampleDir, 'train.jsonl.gz'), join(sampleDir, 'test.jsonl')];

  it('WebGPU is available in the test page (SwiftShader)', async () => {
    const page = await b.newPage(PAGE);
    await open(page);
    expect(await page.evaluate(() => window.dataTest.hasGpuAdapter())).toBe(true);
  });

  it('(a) IMDB sample: validated and tokenized in the worker with progress; ids equal Node\'s', async () => {
    const page = await b.newPage(PAGE);
    await open(page);
    await page.setInputFiles('#file', sampleFiles());
    const r = ok(await run(page, { maxLen: MAX_LEN, seed: 0, dbName: DB }));
    expect(r.cached).toBe(false);
    expect(r.sourceRows).toEqual({ train: 400, test: 60 });
    expect([r.train.count, r.validation.count, r.test?.count]).toEqual([360, 40, 60]);
    expectSameAsNode(r);
    const stages = [...new Set(r.progress.map((p) => p.stage))];
    expect(stages).toEqual(['read', 'cache', 'parse', 'tokenize', 'store', 'done']);
    const tok = r.progress.filter((p): p is PrepareProgress => p.stage === 'tokenize');
    expect(tok.filter((p) => p.split === 'train').map((p) => p.done)).toEqual([256, 400]);
    expect(tok.at(-1)).toMatchObject({ split: 'test', done: 60, total: 60 });
  });

  it('(b) the second prepare, and one after a browser restart, read the shards from IndexedDB', async () => {
    let page = await b.newPage(PAGE);
    await open(page);
    await page.setInputFiles('#file', sampleFiles());
    const again = ok(await run(page, { maxLen: MAX_LEN, seed: 0, dbName: DB }));
    expect(again.cached).toBe(true);
    expect(again.progress.some((p) => p.stage === 'tokenize')).toBe(false);
    expectSameAsNode(again);

    await b.restart();
    page = await b.newPage(PAGE);
    await open(page);
    await page.setInputFiles('#file', sampleFiles());
    const afterRestart = ok(await run(page, { maxLen: MAX_LEN, seed: 0, dbName: DB }));
    expect(afterRestart.cached).toBe(true);
    expectSameAsNode(afterRestart);
    expect(await page.evaluate((db) => window.dataTest.cacheKeys(db), DB)).toEqual([node.cacheKey]);
  });

  for (const mode of ['truncate', 'flip', 'drop-blob'] as const) {
    it(`(c) a ${mode === 'flip' ? 'corrupt (flipped byte)' : mode === 'truncate' ? 'partial (truncated)' : 'partial (missing blob)'} cache entry is detected and rebuilt`, async () => {
      const page = await b.newPage(PAGE);
      await open(page);
      await page.setInputFiles('#file', sampleFiles());
      const names = await page.evaluate(([db, key, m]) => window.dataTest.corrupt(db, key, m), [DB, node.cacheKey, mode] as const);
      expect(names).toContain('all.ids');
      const rebuilt = ok(await run(page, { maxLen: MAX_LEN, seed: 0, dbName: DB }));
      expect(rebuilt.cached).toBe(false);
      expect(rebuilt.progress.some((p) => p.stage === 'tokenize')).toBe(true);
      expectSameAsNode(rebuilt);
      const next = ok(await run(page, { maxLen: MAX_LEN, seed: 0, dbName: DB }));
      expect(next.cached).toBe(true);
    });
  }

  it('state and outbox stores keep their contents across a browser restart', async () => {
    const SDB = 'tunelab-e2e-stores';
    let page = await b.newPage(PAGE);
    await open(page);
    const study = { version: 1, name: 'imdb-lr', trials: [{ id: 0, params: { lr: 3e-5 }, state: 'complete', value: 0.31 }] };
    await page.evaluate(([db, st]) => window.dataTest.stores.statePutMany(db, { 'study:imdb-lr': st, 'settings:theme': 'dark' }), [SDB, study] as const);
    // A value JSON cannot hold fails the whole putMany: neither key is written.
    expect(await page.evaluate((db) => window.dataTest.stores.statePutError(db), SDB)).toMatch(/BigInt/);
    const op = (seq: number): OutboxEntry => ({ seq, enqueuedAt: 1_700_000_000_000 + seq, op: { type: 'metrics', studyId: 's1', experimentName: 'imdb-lr', trialId: `t${seq}`, metrics: [{ key: 'loss', value: 0.5, timestamp: 1, step: seq }] } });
    await page.evaluate(([db, ops]) => window.dataTest.stores.outboxAppend(db, 'mlflow', ops), [SDB, [op(1), op(2), op(3), op(10)]] as const);
    await page.evaluate(([db, ops]) => window.dataTest.stores.outboxAppend(db, 'other', ops), [SDB, [op(1)]] as const);
    await page.evaluate((db) => window.dataTest.stores.outboxAck(db, 'mlflow', [2]), SDB);

    await b.restart();
    page = await b.newPage(PAGE);
    await open(page);
    expect(await page.evaluate((db) => window.dataTest.stores.stateGet(db, 'study:imdb-lr'), SDB)).toEqual(study);
    expect(await page.evaluate((db) => window.dataTest.stores.stateKeys(db), SDB)).toEqual(['settings:theme', 'study:imdb-lr']);
    expect(await page.evaluate((db) => window.dataTest.stores.stateKeys(db, 'study:'), SDB)).toEqual(['study:imdb-lr']);
    expect(await page.evaluate((db) => window.dataTest.stores.outboxLoad(db, 'mlflow'), SDB)).toEqual([op(1), op(3), op(10)]);
    expect(await page.evaluate((db) => window.dataTest.stores.outboxLoad(db, 'other'), SDB)).toEqual([op(1)]);
  });

  it('storage(): the page can show usage and quota', async () => {
    const page = await b.newPage(PAGE);
    await open(page);
    const s = await page.evaluate(() => window.dataTest.storage());
    expect(s.quotaBytes).toBeGreaterThan(0);
    expect(s.usageBytes).toBeGreaterThan(100_000); // the IMDB sample's shards from (a)
    expect(typeof s.persisted).toBe('boolean');
  });

  describe('(d) each malformed fixture gives the same error (file, line, column) as in Node', () => {
    const names = readdirSync(FIXTURES).filter((n) => n !== 'make_parquet.py').sort();
    const nodeFs = new NodeDataFileSystem(FIXTURES);
    let shared: Page | null = null;
    const fixturePage = async (): Promise<Page> => {
      if (shared === null || shared.isClosed()) {
        shared = await b.newPage(PAGE);
        await open(shared);
      }
      return shared;
    };

    it('covers the fixtures', () => {
      expect(names.length).toBeGreaterThanOrEqual(15);
      expect(names).toContain('no-train-folder');
    });

    for (const name of names) {
      it(name, async () => {
        let want: { error: Record<string, unknown> } | { skipped: unknown; rows: number };
        try {
          const loaded = await loadSource(await resolveSource(nodeFs, name));
          want = { skipped: loaded.skipped, rows: loaded.train.texts.length };
        } catch (e) {
          if (!(e instanceof DataError)) throw e;
          want = { error: { kind: 'data', file: e.file, line: e.line, row: e.row, column: e.column, detail: e.detail, message: e.message } };
        }
        const page = await fixturePage();
        const isFolder = name === 'no-train-folder';
        await page.setInputFiles(isFolder ? '#folder' : '#file', join(FIXTURES, name));
        const r = await run(page, { maxLen: 16, useCache: false, input: isFolder ? 'folder' : 'file' });
        if ('error' in want) {
          expect(r.ok, `${name} should fail in the browser too`).toBe(false);
          if (r.ok) return;
          const got = { line: undefined, row: undefined, column: undefined, ...r.error };
          expect({ kind: got.kind, file: got.file, line: got.line, row: got.row, column: got.column, detail: got.detail, message: got.message }).toEqual(want.error);
        } else {
          const got = ok(r);
          // V8 words JSON.parse errors differently in Node 20 and Chromium: compare reasons up to the parenthesis.
          const norm = (s: unknown): unknown => JSON.parse(JSON.stringify(s).replace(/ \(([^"]*)\)"/g, '"')) as unknown;
          expect(norm(got.skipped)).toEqual(norm(want.skipped));
          expect((got.sourceRows as { train: number }).train).toBe(want.rows);
        }
      });
    }

    it('spot checks: the line and column a user is pointed to', async () => {
      const page = await fixturePage();
      const cases: [string, Record<string, unknown>][] = [
        ['three-classes.jsonl', { file: 'three-classes.jsonl', line: 5, column: 'label' }],
        ['not-utf8.jsonl', { file: 'not-utf8.jsonl', line: 4 }],
        ['missing-text-column.jsonl', { file: 'missing-text-column.jsonl', line: 1 }],
        ['empty.jsonl', { file: 'empty.jsonl', detail: 'file is empty' }],
      ];
      for (const [name, want] of cases) {
        await page.setInputFiles('#file', join(FIXTURES, name));
        const r = await run(page, { maxLen: 16, useCache: false });
        expect(r.ok ? null : r.error, name).toMatchObject({ kind: 'data', ...want });
      }
    });
  });
});
