// Hugging Face Hub datasets (src/data/hub.ts) against a local fake Hub: node:http on 127.0.0.1 serving the Hub's
// URL layout (GET /api/datasets/<id>/parquet -> {config: {split: [urls]}} and the Parquet shards, with CORS)
// with small Parquet files written by pyarrow from IMDB reviews. In Node and through the data worker in Chromium:
// download with progress, the same token ids as the local-file path, the download cache making a second prepare
// work offline, and clear errors when offline, for an unknown dataset and for a multi-shard split.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { MemoryFileSystem } from '../../src/data/files.ts';
import { fetchHubDataset, HubError, type HubDownloadProgress, type HubFileCache } from '../../src/data/hub.ts';
import { prepareDataset, type PreparedDataset } from '../../src/data/prepare.ts';
import { readTokenizerFiles } from '../../src/cli/node-files.ts';
import { REPO_ROOT, useBrowser } from '../helpers/browser.ts';
import type { PrepareArgs, RunResult } from './pages/data-page.ts';

const IMDB = join(REPO_ROOT, '../shared/data/imdb');
const MODEL = join(REPO_ROOT, 'public/tokenizer/bert-base-uncased');
const PAGE = '/test/e2e/pages/data.html';
const ID = 'stanfordnlp/imdb';
const tmp = mkdtempSync(join(tmpdir(), 'tunelab-e2e-hub-'));

/** The fake Hub: listing + shards for stanfordnlp/imdb (one shard per split) and owner/sharded (two train shards). */
class FakeHub {
  readonly requests: string[] = [];
  private server: Server | null = null;
  origin = '';
  constructor(private readonly files: Record<string, Uint8Array>) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      this.requests.push(path);
      res.setHeader('Access-Control-Allow-Origin', '*');
      const shard = (id: string, config: string, split: string, n: number): string => `${this.origin}/api/datasets/${id}/parquet/${config}/${split}/${n}.parquet`;
      const listings: Record<string, unknown> = {
        [`/api/datasets/${ID}/parquet`]: {
          plain_text: { train: [shard(ID, 'plain_text', 'train', 0)], test: [shard(ID, 'plain_text', 'test', 0)], unsupervised: [shard(ID, 'plain_text', 'unsupervised', 0)] },
        },
        '/api/datasets/owner/sharded/parquet': { default: { train: [shard('owner/sharded', 'default', 'train', 0), shard('owner/sharded', 'default', 'train', 1)] } },
      };
      const listing = listings[path];
      if (listing !== undefined) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(listing));
        return;
      }
      const body = this.files[path];
      if (body === undefined) {
        res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"Not Found"}');
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(body.length) }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s !== null) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  }
}

class MapCache implements HubFileCache {
  readonly map = new Map<string, Uint8Array>();
  get(url: string): Promise<Uint8Array | null> {
    return Promise.resolve(this.map.get(url) ?? null);
  }
  put(url: string, bytes: Uint8Array): Promise<void> {
    this.map.set(url, bytes);
    return Promise.resolve();
  }
}

let hub: FakeHub;
let train: Uint8Array;
let test: Uint8Array;
let node: PreparedDataset;

beforeAll(async () => {
  const path = join(IMDB, 'train.jsonl.gz');
  if (!existsSync(path)) throw new Error(`IMDB missing at ${path} (../shared/data/imdb/ next to the repo)`);
  const lines = gunzipSync(readFileSync(path)).toString('utf8').split('\n').filter((l) => l !== '');
  // Hub IMDB layout: text (string), label (int64); 150 + 150 train rows, 40 test rows from elsewhere in the file.
  writeFileSync(join(tmp, 'train.jsonl'), [...lines.slice(0, 150), ...lines.slice(-150)].join('\n'));
  writeFileSync(join(tmp, 'test.jsonl'), [...lines.slice(1000, 1020), ...lines.slice(-1020, -1000)].join('\n'));
  const script = `
import json, sys, pyarrow as pa, pyarrow.parquet as pq
for name in ["train", "test"]:
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/{name}.jsonl")]
    t = pa.table({"text": [r["text"] for r in rows], "label": pa.array([r["label"] for r in rows], pa.int64())})
    pq.write_table(t, f"{sys.argv[1]}/{name}.parquet")
`;
  execFileSync('python3', ['-c', script, tmp]);
  train = new Uint8Array(readFileSync(join(tmp, 'train.parquet')));
  test = new Uint8Array(readFileSync(join(tmp, 'test.parquet')));
  hub = new FakeHub({
    [`/api/datasets/${ID}/parquet/plain_text/train/0.parquet`]: train,
    [`/api/datasets/${ID}/parquet/plain_text/test/0.parquet`]: test,
    '/api/datasets/owner/sharded/parquet/default/train/0.parquet': train,
    '/api/datasets/owner/sharded/parquet/default/train/1.parquet': test,
  });
  await hub.start();
  // The reference: the same Parquet bytes through the local-file path in Node.
  const fs = new MemoryFileSystem([[`${ID}/train.parquet`, train], [`${ID}/test.parquet`, test]]);
  node = await prepareDataset({ fs, source: ID, tokenizerFiles: await readTokenizerFiles(MODEL), maxLen: 64, seed: 0 });
});

afterAll(async () => {
  await hub.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('Hub datasets in Node (fetchHubDataset)', () => {
  it('lists, picks plain_text, downloads train + test with progress and serves the second call from the cache', async () => {
    const cache = new MapCache();
    const progress: HubDownloadProgress[] = [];
    const d = await fetchHubDataset({ dataset: ID, baseUrl: hub.origin, cache, onProgress: (p) => progress.push(p) });
    expect(d.config).toBe('plain_text');
    expect(d.path).toBe(ID);
    expect(d.files.map((f) => [f.split, f.bytes, f.cached])).toEqual([['train', train.length, false], ['test', test.length, false]]);
    expect(await d.fs.read(`${ID}/train.parquet`)).toEqual(train);
    expect(progress.at(-1)).toMatchObject({ file: 'test.parquet', loaded: test.length, total: test.length, cached: false });
    expect(hub.requests.filter((r) => r.includes('unsupervised'))).toEqual([]);
    const again = await fetchHubDataset({ dataset: ID, baseUrl: hub.origin, cache });
    expect(again.files.every((f) => f.cached)).toBe(true);
  });

  it('errors: unknown dataset (404), unknown config, multi-shard split, bad id, offline without a cache', async () => {
    await expect(fetchHubDataset({ dataset: 'nobody/nothing', baseUrl: hub.origin })).rejects.toThrow(/nobody\/nothing: not found on the Hub or it has no Parquet conversion \(HTTP 404/);
    await expect(fetchHubDataset({ dataset: ID, config: 'nope', baseUrl: hub.origin })).rejects.toThrow(/has no config "nope"; it has plain_text/);
    await expect(fetchHubDataset({ dataset: 'owner/sharded', baseUrl: hub.origin })).rejects.toThrow(/train split in 2 Parquet shards/);
    await expect(fetchHubDataset({ dataset: 'a b', baseUrl: hub.origin })).rejects.toThrow(/not a Hub dataset id/);
    const offline = fetchHubDataset({ dataset: ID, baseUrl: 'http://127.0.0.1:9' });
    await expect(offline).rejects.toBeInstanceOf(HubError);
    await expect(offline).rejects.toThrow(/cannot reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:9 \(offline or blocked\?\)/);
  });
});

describe('Hub datasets through the data worker in Chromium', () => {
  const b = useBrowser();
  const DB = 'tunelab-e2e-hub';
  let page: Page;

  async function run(args: PrepareArgs): Promise<RunResult> {
    return page.evaluate((a) => window.dataTest.run(a), args);
  }

  it('downloads from the fake Hub with progress; ids equal Node\'s for the same Parquet bytes', async () => {
    page = await b.newPage(PAGE);
    await page.waitForFunction(() => window.dataTestReady === true, null, { timeout: 60_000 });
    const r = await run({ hub: { kind: 'hub', dataset: ID, baseUrl: hub.origin }, maxLen: 64, seed: 0, dbName: DB });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    expect(r.cached).toBe(false);
    expect(r.hubFiles).toEqual([
      { split: 'train', url: `${hub.origin}/api/datasets/${ID}/parquet/plain_text/train/0.parquet`, bytes: train.length, cached: false },
      { split: 'test', url: `${hub.origin}/api/datasets/${ID}/parquet/plain_text/test/0.parquet`, bytes: test.length, cached: false },
    ]);
    const downloads = r.progress.filter((p) => p.stage === 'download');
    expect(downloads.at(-1)).toMatchObject({ file: 'test.parquet', loaded: test.length, total: test.length });
    expect(r.progress.at(-1)?.stage).toBe('done');
    expect(r.cacheKey).toBe(node.cacheKey);
    expect(r.sourceRows).toEqual({ train: 300, test: 40 });
    expect(r.train.ids).toEqual(Array.from(node.train.ids));
    expect(r.validation.ids).toEqual(Array.from(node.validation.ids));
    expect(r.test?.ids).toEqual(node.test ? Array.from(node.test.ids) : null);
    expect(r.train.labels).toEqual(Array.from(node.train.labels));
  });

  it('with the Hub gone, the second prepare runs from IndexedDB (downloads and shards)', async () => {
    await hub.stop();
    const r = await run({ hub: { kind: 'hub', dataset: ID, baseUrl: hub.origin }, maxLen: 64, seed: 0, dbName: DB });
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    expect(r.cached).toBe(true);
    expect((r.hubFiles as { cached: boolean }[]).map((f) => f.cached)).toEqual([true, true]);
    expect(r.train.ids).toEqual(Array.from(node.train.ids));
  });

  it('offline with nothing cached: a clear error, not a crash', async () => {
    const r = await run({ hub: { kind: 'hub', dataset: ID, baseUrl: hub.origin }, maxLen: 64, dbName: 'tunelab-e2e-hub-empty' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.kind).toBe('hub');
    expect(r.error.message).toMatch(/cannot reach the Hugging Face Hub at http:\/\/127\.0\.0\.1:\d+ \(offline or blocked\?\).*Use local files instead/);
  });
});
