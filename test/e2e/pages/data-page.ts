// Test page for the data worker (test/e2e/data-*.test.ts): starts workers/data.worker.ts through comlink and
// exposes window.dataTest, which the tests call with page.evaluate. Files come from the real <input type=file>
// elements (the tests fill them with Playwright's setInputFiles), as a user's picked files would.
import { proxy, wrap } from 'comlink';
import type { DataPrepareRequest, DataWorkerApi, DataWorkerProgress, PrepareOutcome } from '../../../workers/data.worker.ts';
import { openTuneLabDb } from '../../../src/app/storage/db.ts';
import { IdbShardStore } from '../../../src/app/storage/shard-store.ts';
import { IdbStateStore } from '../../../src/app/storage/state-store.ts';
import { IdbOutboxStore } from '../../../src/app/storage/outbox-store.ts';
import type { OutboxEntry } from '../../../src/tracking/outbox.ts';
import type { TokenizedSplit } from '../../../src/data/types.ts';
import type { TokenizerFiles } from '../../../src/data/tokenize.ts';

const worker = wrap<DataWorkerApi>(new Worker(new URL('../../../workers/data.worker.ts', import.meta.url), { type: 'module' }));

async function tokenizer(): Promise<TokenizerFiles> {
  const get = async (name: string): Promise<string> => {
    const res = await fetch(`/tokenizer/bert-base-uncased/${name}`);
    if (!res.ok) throw new Error(`tokenizer file ${name}: HTTP ${res.status}`);
    return res.text();
  };
  return { tokenizerJson: await get('tokenizer.json'), tokenizerConfigJson: await get('tokenizer_config.json') };
}

/** Plain arrays so page.evaluate can hand them to Node. */
export interface SplitSummary { count: number; maxLen: number; ids: number[]; lengths: number[]; labels: number[]; idsType: string }
function summary(s: TokenizedSplit): SplitSummary {
  return { count: s.count, maxLen: s.maxLen, ids: Array.from(s.ids), lengths: Array.from(s.lengths), labels: Array.from(s.labels), idsType: s.ids.constructor.name };
}

export type RunResult =
  | { ok: false; error: Extract<PrepareOutcome, { ok: false }>['error']; progress: DataWorkerProgress[] }
  | {
      ok: true; cached: boolean; cacheKey: string; seconds: number; vocabSize: number; skipped: unknown; sourceRows: unknown; stats: unknown;
      train: SplitSummary; validation: SplitSummary; test: SplitSummary | null; cacheWarning: unknown; hubFiles: unknown;
      progress: DataWorkerProgress[];
    };

export type PrepareArgs = Omit<DataPrepareRequest, 'source' | 'tokenizer'> & { input?: 'file' | 'folder'; path?: string; hub?: Extract<DataPrepareRequest['source'], { kind: 'hub' }> };

async function run(args: PrepareArgs): Promise<RunResult> {
  const { input = 'file', path, hub, ...rest } = args;
  let source: DataPrepareRequest['source'];
  if (hub !== undefined) source = hub;
  else {
    const el = document.getElementById(input) as HTMLInputElement;
    source = { kind: 'files', files: [...(el.files ?? [])], ...(path !== undefined ? { path } : {}) };
  }
  const progress: DataWorkerProgress[] = [];
  const r = await worker.prepare({ ...rest, source, tokenizer: await tokenizer() }, proxy((p: DataWorkerProgress) => { progress.push(p); }));
  // Progress calls are posted before prepare resolves; one more task lets the last ones land.
  await new Promise((res) => setTimeout(res, 0));
  if (!r.ok) return { ok: false, error: r.error, progress };
  const d = r.dataset;
  document.getElementById('log')!.textContent = `prepared ${d.train.count}+${d.validation.count} rows, cached ${String(d.cached)}`;
  return {
    ok: true, cached: d.cached, cacheKey: d.cacheKey, seconds: d.seconds, vocabSize: d.vocabSize, skipped: d.skipped, sourceRows: d.sourceRows, stats: d.stats,
    train: summary(d.train), validation: summary(d.validation), test: d.test ? summary(d.test) : null,
    cacheWarning: r.cacheWarning ?? null, hubFiles: r.hubFiles ?? null, progress,
  };
}

/** Damages a cached entry the way a crash or a bad disk would. */
async function corrupt(dbName: string, key: string, mode: 'truncate' | 'flip' | 'drop-blob'): Promise<string[]> {
  const db = await openTuneLabDb(dbName);
  try {
    const names = (await db.getAllKeys('shardBlobs', IDBKeyRange.bound([key], [key, []]))).map(([, n]) => n);
    const name = names.find((n) => n.endsWith('.ids'));
    if (name === undefined) throw new Error(`no ids blob under ${key}: ${names.join(', ')}`);
    const buf = await db.get('shardBlobs', [key, name]);
    if (buf === undefined) throw new Error('blob vanished');
    if (mode === 'drop-blob') await db.delete('shardBlobs', [key, name]);
    else if (mode === 'truncate') await db.put('shardBlobs', buf.slice(0, Math.floor(buf.byteLength / 2)), [key, name]);
    else {
      const b = new Uint8Array(buf.slice(0));
      b[b.length >> 1] = (b[b.length >> 1] ?? 0) ^ 0xff;
      await db.put('shardBlobs', b.buffer, [key, name]);
    }
    return names;
  } finally {
    db.close();
  }
}

async function cacheKeys(dbName: string): Promise<string[]> {
  const db = await openTuneLabDb(dbName);
  try {
    return (await new IdbShardStore(db).list()).map((e) => e.key);
  } finally {
    db.close();
  }
}

/** The page-side stores (state, outbox) exercised through their public API; each call opens and closes the DB. */
async function withDb<T>(dbName: string, f: (db: Awaited<ReturnType<typeof openTuneLabDb>>) => Promise<T>): Promise<T> {
  const db = await openTuneLabDb(dbName);
  try {
    return await f(db);
  } finally {
    db.close();
  }
}
const stores = {
  statePutMany: (dbName: string, entries: Record<string, unknown>) => withDb(dbName, (db) => new IdbStateStore(db).putMany(entries)),
  stateGet: (dbName: string, key: string) => withDb(dbName, (db) => new IdbStateStore(db).get(key)),
  stateKeys: (dbName: string, prefix?: string) => withDb(dbName, (db) => new IdbStateStore(db).keys(prefix)),
  statePutError: (dbName: string) => withDb(dbName, async (db) => {
    try {
      await new IdbStateStore(db).putMany({ 'a:ok': 1, 'a:bad': { n: 1n } });
      return 'no error';
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }),
  outboxAppend: (dbName: string, box: string, entries: readonly OutboxEntry[]) => withDb(dbName, async (db) => {
    const s = new IdbOutboxStore(db, box);
    for (const e of entries) await s.append(e);
  }),
  outboxAck: (dbName: string, box: string, seqs: number[]) => withDb(dbName, (db) => new IdbOutboxStore(db, box).ack(seqs)),
  outboxLoad: (dbName: string, box: string) => withDb(dbName, (db) => new IdbOutboxStore(db, box).load()),
};

const api = {
  stores,
  run,
  corrupt,
  cacheKeys,
  listCache: (dbName: string) => worker.listCache(dbName),
  clearCache: (dbName: string) => worker.clearCache(dbName),
  storage: () => worker.storage(),
  hasGpuAdapter: async (): Promise<boolean> => (await navigator.gpu?.requestAdapter()) != null,
};
declare global {
  interface Window { dataTest: typeof api; dataTestReady: boolean }
}
window.dataTest = api;
window.dataTestReady = true;
