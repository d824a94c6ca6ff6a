// The data worker: validates, tokenizes and caches a dataset off the main thread, behind a typed comlink API.
// Shards live in IndexedDB (src/app/storage), Hub downloads too, so a second prepare (also after a browser
// restart) reads the shards instead of tokenizing. Failures come back as values, never as thrown errors:
// comlink keeps only an Error's message, and the page needs the file, line and column to say what is wrong.
//
// Page usage:
//   import { wrap, proxy } from 'comlink';
//   import type { DataWorkerApi } from '../../workers/data.worker.ts';
//   const data = wrap<DataWorkerApi>(new Worker(new URL('../../workers/data.worker.ts', import.meta.url), { type: 'module' }));
//   const r = await data.prepare(
//     { source: { kind: 'files', files: [...input.files] },            // or { kind: 'hub', dataset: 'stanfordnlp/imdb' }
//       tokenizer: { tokenizerJson, tokenizerConfigJson }, maxLen: 192, seed: 0 },
//     proxy((p) => showProgress(p)));                                  // DataWorkerProgress
//   if (r.ok) train(r.dataset) else show(r.error.message)              // r.error: DataProblem {kind, file?, line?, ...}
//
// API (DataWorkerApi):
//   prepare(req: DataPrepareRequest, onProgress?): Promise<PrepareOutcome>   // typed arrays are transferred
//   listCache(dbName?): Promise<ShardCacheInfo[]>
//   deleteCache(key, dbName?): Promise<void>
//   clearCache(dbName?): Promise<void>                                        // shards and Hub downloads
//   storage(): Promise<StorageEstimateInfo & { persisted: boolean }>
import { expose, transfer } from 'comlink';
import { DataError } from '../src/data/errors.ts';
import { MemoryFileSystem, type DataFileSystem } from '../src/data/files.ts';
import { DEFAULT_HUB_DATASET, fetchHubDataset, HubError, type HubDownloadProgress } from '../src/data/hub.ts';
import { prepareDataset, type PreparedDataset, type PrepareOptions, type PrepareProgress } from '../src/data/prepare.ts';
import type { ShardEntry, ShardStore } from '../src/data/shards.ts';
import type { DataSourceSpec } from '../src/data/sources.ts';
import type { TokenizerFiles } from '../src/data/tokenize.ts';
import { DB_NAME, openTuneLabDb, type TuneLabDb } from '../src/app/storage/db.ts';
import { IdbHubFileCache } from '../src/app/storage/hub-cache.ts';
import { storageEstimate, StorageQuotaError, type StorageEstimateInfo } from '../src/app/storage/quota.ts';
import { IdbShardStore, type ShardCacheInfo } from '../src/app/storage/shard-store.ts';

export type DataSourceRequest =
  | {
      kind: 'files';
      /** From <input type=file> (folder picks keep webkitRelativePath) or drag-and-drop. */
      files: File[];
      /** Which file or folder inside the pick is the dataset; default: the single file, else the common folder. */
      path?: string;
    }
  | {
      kind: 'hub';
      /** Default stanfordnlp/imdb. */
      dataset?: string;
      config?: string;
      /** Default https://huggingface.co. */
      baseUrl?: string;
      accessToken?: string;
      includeTest?: boolean;
    };

/** Column and validation options (see src/data/labels.ts, validate.ts). */
/** Column names, rating threshold and skip policy, as a DataSourceSpec takes them. */
export type DataColumnOptions = Pick<DataSourceSpec, 'textColumn' | 'labelColumn' | 'ratingThreshold' | 'maxSkippedFraction'>;

/** prepareDataset's options, with the source, tokenizer and storage named the way a page can send them. */
export interface DataPrepareRequest extends Pick<PrepareOptions, 'maxLen' | 'valFraction' | 'seed' | 'trainLimit' | 'valLimit' | 'testLimit'> {
  source: DataSourceRequest;
  columns?: DataColumnOptions;
  /** The model's tokenizer.json (+ tokenizer_config.json) as text. */
  tokenizer: TokenizerFiles;
  /** Read and write the IndexedDB shard cache. Default true. */
  useCache?: boolean;
  /** IndexedDB database name; default 'tunelab' (tests use their own). */
  dbName?: string;
}

export type DataWorkerProgress = PrepareProgress | ({ stage: 'download' } & HubDownloadProgress);

/** What went wrong, in words plus where. */
export interface DataProblem {
  /** data: the file; hub: download/listing; quota: browser storage full; options: bad request values. */
  kind: 'data' | 'hub' | 'quota' | 'options' | 'tokenizer' | 'internal';
  /** Full sentence with the location, ready to show. */
  message: string;
  /** The problem without the location. */
  detail: string;
  file?: string;
  line?: number;
  row?: number;
  column?: string;
  url?: string;
  status?: number;
  neededBytes?: number;
  usageBytes?: number;
  quotaBytes?: number;
}

export type PrepareOutcome =
  | {
      ok: true;
      dataset: PreparedDataset;
      /** Set when the shards could not be cached (e.g. storage full): the dataset is usable, the next run retokenizes. */
      cacheWarning?: DataProblem;
      /** Hub source: which files were used (and whether they came from the download cache). */
      hubFiles?: { split: string; url: string; bytes: number; cached: boolean }[];
    }
  | { ok: false; error: DataProblem };

export interface DataWorkerApi {
  prepare(req: DataPrepareRequest, onProgress?: (p: DataWorkerProgress) => void): Promise<PrepareOutcome>;
  listCache(dbName?: string): Promise<ShardCacheInfo[]>;
  deleteCache(key: string, dbName?: string): Promise<void>;
  clearCache(dbName?: string): Promise<void>;
  storage(): Promise<StorageEstimateInfo & { persisted: boolean }>;
}

export function toDataProblem(e: unknown): DataProblem {
  if (e instanceof DataError) {
    return {
      kind: 'data', message: e.message, detail: e.detail, file: e.file,
      ...(e.line !== undefined ? { line: e.line } : {}), ...(e.row !== undefined ? { row: e.row } : {}), ...(e.column !== undefined ? { column: e.column } : {}),
    };
  }
  if (e instanceof HubError) return { kind: 'hub', message: e.message, detail: e.message, url: e.url, ...(e.status !== undefined ? { status: e.status } : {}) };
  if (e instanceof StorageQuotaError) {
    return {
      kind: 'quota', message: e.message, detail: e.message, neededBytes: e.neededBytes,
      ...(e.usageBytes !== undefined ? { usageBytes: e.usageBytes } : {}), ...(e.quotaBytes !== undefined ? { quotaBytes: e.quotaBytes } : {}),
    };
  }
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof RangeError) return { kind: 'options', message, detail: message };
  if (/tokenizer/i.test(message)) return { kind: 'tokenizer', message, detail: message };
  return { kind: 'internal', message, detail: message };
}

/** The dataset path inside a file pick: the single file, else the top folder all files share, else the root. */
export function pickPath(names: string[]): string {
  if (names.length === 1 && !(names[0] ?? '').includes('/')) return names[0] ?? '';
  const tops = new Set(names.map((n) => (n.includes('/') ? n.split('/')[0] : '')));
  const [top] = tops;
  return tops.size === 1 && top !== undefined ? top : '';
}

/** A store whose failed writes are recorded instead of thrown: a full disk must not cost the tokenized data. */
class ForgivingStore implements ShardStore {
  failure: unknown = null;
  constructor(private readonly inner: ShardStore) {}
  get(key: string): Promise<ShardEntry | null> {
    return this.inner.get(key);
  }
  async put(key: string, entry: ShardEntry): Promise<void> {
    try {
      await this.inner.put(key, entry);
    } catch (e) {
      this.failure = e;
    }
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
}

function transferables(d: PreparedDataset): ArrayBuffer[] {
  const set = new Set<ArrayBuffer>();
  for (const s of [d.train, d.validation, d.test]) {
    if (s === undefined) continue;
    for (const a of [s.ids, s.lengths, s.labels]) if (a.buffer instanceof ArrayBuffer) set.add(a.buffer);
  }
  return [...set];
}

/** The worker's API as a plain object (usable in-process too); one IndexedDB connection per database name. */
export function createDataWorkerApi(): DataWorkerApi {
  const dbs = new Map<string, Promise<TuneLabDb>>();
  const db = (name: string = DB_NAME): Promise<TuneLabDb> => {
    let p = dbs.get(name);
    if (p === undefined) {
      p = openTuneLabDb(name);
      dbs.set(name, p);
    }
    return p;
  };

  return {
    async prepare(req, onProgress) {
      const progress = (p: DataWorkerProgress): void => {
        // A progress callback that fails (page gone) must not fail the preparation.
        Promise.resolve(onProgress?.(p)).catch(() => undefined);
      };
      try {
        const useCache = req.useCache !== false;
        const database = useCache || req.source.kind === 'hub' ? await db(req.dbName) : null;
        let fs: DataFileSystem;
        let path: string;
        let hubFiles: { split: string; url: string; bytes: number; cached: boolean }[] | undefined;
        if (req.source.kind === 'files') {
          const mfs = MemoryFileSystem.fromFiles(req.source.files);
          fs = mfs;
          path = req.source.path ?? pickPath(req.source.files.map((f) => (f.webkitRelativePath !== '' ? f.webkitRelativePath : f.name)));
          if (req.source.files.length === 0) throw new DataError({ file: '(no files)' }, 'no files were chosen');
        } else {
          const s = req.source;
          const hub = await fetchHubDataset({
            dataset: s.dataset ?? DEFAULT_HUB_DATASET,
            ...(s.config !== undefined ? { config: s.config } : {}),
            ...(s.baseUrl !== undefined ? { baseUrl: s.baseUrl } : {}),
            ...(s.accessToken !== undefined ? { accessToken: s.accessToken } : {}),
            ...(s.includeTest !== undefined ? { includeTest: s.includeTest } : {}),
            ...(database !== null ? { cache: new IdbHubFileCache(database) } : {}),
            onProgress: (p) => progress({ stage: 'download', ...p }),
          });
          fs = hub.fs;
          path = hub.path;
          hubFiles = hub.files;
        }
        const spec: DataSourceSpec = { path, ...req.columns };
        const store = useCache && database !== null ? new ForgivingStore(new IdbShardStore(database)) : undefined;
        const dataset = await prepareDataset({
          fs, source: spec, tokenizerFiles: req.tokenizer, maxLen: req.maxLen,
          ...(req.valFraction !== undefined ? { valFraction: req.valFraction } : {}),
          ...(req.seed !== undefined ? { seed: req.seed } : {}),
          ...(req.trainLimit !== undefined ? { trainLimit: req.trainLimit } : {}),
          ...(req.valLimit !== undefined ? { valLimit: req.valLimit } : {}),
          ...(req.testLimit !== undefined ? { testLimit: req.testLimit } : {}),
          ...(store !== undefined ? { store } : {}),
          onProgress: progress,
        });
        const outcome: PrepareOutcome = {
          ok: true, dataset,
          ...(store?.failure != null ? { cacheWarning: toDataProblem(store.failure) } : {}),
          ...(hubFiles !== undefined ? { hubFiles } : {}),
        };
        return transfer(outcome, transferables(dataset));
      } catch (e) {
        return { ok: false, error: toDataProblem(e) };
      }
    },

    async listCache(dbName) {
      return new IdbShardStore(await db(dbName)).list();
    },

    async deleteCache(key, dbName) {
      await new IdbShardStore(await db(dbName)).delete(key);
    },

    async clearCache(dbName) {
      const d = await db(dbName);
      await new IdbShardStore(d).clear();
      await new IdbHubFileCache(d).clear();
    },

    async storage() {
      const persisted = typeof navigator !== 'undefined' && navigator.storage !== undefined ? await navigator.storage.persisted() : false;
      return { ...(await storageEstimate()), persisted };
    },
  };
}

// Expose only inside a worker, so tests and tools can import the types and createDataWorkerApi in-process.
declare const WorkerGlobalScope: { new (): object } | undefined;
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) expose(createDataWorkerApi());
