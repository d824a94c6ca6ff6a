// Hugging Face Hub datasets as Parquet: the Hub converts every public dataset to Parquet on the
// `refs/convert/parquet` branch and lists those files at
//   GET {base}/api/datasets/{id}/parquet  ->  { "<config>": { "<split>": ["<url of shard 0>", ...] } }
// (for stanfordnlp/imdb: config "plain_text", splits train/test/unsupervised, one shard each). We pick a config,
// download train (and test when present) with progress, and hand them to the existing Parquet path as a folder
// "<id>/train.parquet" + "<id>/test.parquet" in a MemoryFileSystem. Downloads (and the listing) are kept in a
// HubFileCache (IndexedDB in the browser), so a second prepare needs no network; the shard cache keys on the
// content hash anyway. Runs in Node and in a Worker (fetch + streams only).
//
// API:
//   fetchHubDataset(opts: HubDatasetOptions): Promise<HubDataset>   // { fs, path, config, files }
//   listHubParquet(opts): Promise<HubParquetListing>
//   class HubError extends Error { url; status }                     // offline, not found, gated, bad listing
import { MemoryFileSystem } from './files.ts';

export const DEFAULT_HUB_URL = 'https://huggingface.co';
export const DEFAULT_HUB_DATASET = 'stanfordnlp/imdb';

/** Bytes by URL: downloaded files survive a reload and make a second prepare work offline. */
export interface HubFileCache {
  get(url: string): Promise<Uint8Array | null>;
  put(url: string, bytes: Uint8Array): Promise<void>;
}

export interface HubDownloadProgress {
  /** "train.parquet", "test.parquet" or "listing". */
  file: string;
  url: string;
  /** Bytes received so far. */
  loaded: number;
  /** Content-Length when the server sent one. */
  total?: number;
  /** True when the bytes came from the cache (loaded === total at once). */
  cached: boolean;
}

export interface HubDatasetOptions {
  /** "owner/name", e.g. stanfordnlp/imdb. */
  dataset: string;
  /** Dataset config ("subset"); default: "default", else "plain_text", else the first listed. */
  config?: string;
  /** Hub origin, default https://huggingface.co (tests point it at a local server). */
  baseUrl?: string;
  /** Also read the test split when the dataset has one. Default true. */
  includeTest?: boolean;
  cache?: HubFileCache;
  onProgress?: (p: HubDownloadProgress) => void;
  signal?: AbortSignal;
  /** Sent as "Authorization: Bearer <token>" for gated or private datasets. */
  accessToken?: string;
  fetch?: typeof fetch;
}

/** config -> split -> shard URLs. */
export type HubParquetListing = Record<string, Record<string, string[]>>;

export interface HubDataset {
  fs: MemoryFileSystem;
  /** The folder in fs to pass as the source path (the dataset id). */
  path: string;
  config: string;
  files: { split: string; url: string; bytes: number; cached: boolean }[];
}

export class HubError extends Error {
  readonly url: string;
  readonly status: number | undefined;
  constructor(url: string, message: string, status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HubError';
    this.url = url;
    this.status = status;
  }
}

const DATASET_ID = /^[\w.-]+(\/[\w.-]+)?$/;

function baseOf(opts: HubDatasetOptions): string {
  return (opts.baseUrl ?? DEFAULT_HUB_URL).replace(/\/+$/, '');
}

function listingUrl(opts: HubDatasetOptions): string {
  if (!DATASET_ID.test(opts.dataset)) throw new HubError('', `"${opts.dataset}" is not a Hub dataset id (expected owner/name, e.g. ${DEFAULT_HUB_DATASET})`);
  return `${baseOf(opts)}/api/datasets/${opts.dataset}/parquet`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describeStatus(dataset: string, url: string, status: number): string {
  if (status === 401 || status === 403) return `${dataset}: the Hub refused access (HTTP ${status}) to ${url}; the dataset may be gated or private (accept its terms and give an access token)`;
  if (status === 404) return `${dataset}: not found on the Hub or it has no Parquet conversion (HTTP 404 for ${url})`;
  return `${dataset}: the Hub answered HTTP ${status} for ${url}`;
}

async function download(url: string, file: string, opts: HubDatasetOptions): Promise<Uint8Array> {
  const doFetch = opts.fetch ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.accessToken !== undefined ? { headers: { Authorization: `Bearer ${opts.accessToken}` } } : {}),
    });
  } catch (e) {
    if (opts.signal?.aborted === true) throw e;
    throw new HubError(url, `cannot reach the Hugging Face Hub at ${baseOf(opts)} (offline or blocked?): ${e instanceof Error ? e.message : String(e)}. Use local files instead, or try again when online.`, undefined, { cause: e });
  }
  if (!res.ok) throw new HubError(url, describeStatus(opts.dataset, url, res.status), res.status);
  const lenHeader = res.headers.get('content-length');
  const total = lenHeader !== null && /^\d+$/.test(lenHeader) ? Number(lenHeader) : undefined;
  const report = (loaded: number): void => opts.onProgress?.({ file, url, loaded, ...(total !== undefined ? { total } : {}), cached: false });
  if (res.body === null) {
    const bytes = new Uint8Array(await res.arrayBuffer());
    report(bytes.length);
    return bytes;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  let lastReport = 0;
  report(0);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      // ~1 report per MiB keeps a comlink callback from flooding the page.
      if (loaded - lastReport >= 1 << 20) {
        lastReport = loaded;
        report(loaded);
      }
    }
  } catch (e) {
    if (opts.signal?.aborted === true) throw e;
    throw new HubError(url, `download of ${url} broke off after ${loaded} bytes: ${e instanceof Error ? e.message : String(e)}`, undefined, { cause: e });
  }
  if (total !== undefined && loaded !== total) throw new HubError(url, `download of ${url} is incomplete: ${loaded} of ${total} bytes`);
  report(loaded);
  const out = new Uint8Array(loaded);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

function parseListing(url: string, text: string): HubParquetListing {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new HubError(url, `the Parquet listing at ${url} is not JSON`);
  }
  if (!isRecord(json)) throw new HubError(url, `the Parquet listing at ${url} is not an object of configs`);
  const out: HubParquetListing = {};
  for (const [config, splits] of Object.entries(json)) {
    if (!isRecord(splits)) continue;
    const s: Record<string, string[]> = {};
    for (const [split, urls] of Object.entries(splits)) {
      if (Array.isArray(urls) && urls.every((u) => typeof u === 'string')) s[split] = urls;
    }
    out[config] = s;
  }
  if (Object.keys(out).length === 0) throw new HubError(url, `the Parquet listing at ${url} names no configs`);
  return out;
}

/** The listing, fresh when online; the cached one when the Hub cannot be reached. */
export async function listHubParquet(opts: HubDatasetOptions): Promise<HubParquetListing> {
  const url = listingUrl(opts);
  let bytes: Uint8Array;
  try {
    bytes = await download(url, 'listing', { ...opts, onProgress: () => undefined });
    await opts.cache?.put(url, bytes);
  } catch (e) {
    const cached = e instanceof HubError && e.status === undefined ? await opts.cache?.get(url) : null;
    if (cached === null || cached === undefined) throw e;
    bytes = cached;
  }
  return parseListing(url, new TextDecoder().decode(bytes));
}

function pickConfig(opts: HubDatasetOptions, listing: HubParquetListing, url: string): string {
  const configs = Object.keys(listing);
  if (opts.config !== undefined) {
    if (listing[opts.config] === undefined) throw new HubError(url, `${opts.dataset} has no config "${opts.config}"; it has ${configs.join(', ')}`);
    return opts.config;
  }
  return ['default', 'plain_text'].find((c) => listing[c] !== undefined) ?? configs[0] ?? '';
}

export async function fetchHubDataset(opts: HubDatasetOptions): Promise<HubDataset> {
  const listUrl = listingUrl(opts);
  const listing = await listHubParquet(opts);
  const config = pickConfig(opts, listing, listUrl);
  const splits = listing[config] ?? {};
  if (splits.train === undefined || splits.train.length === 0) {
    throw new HubError(listUrl, `${opts.dataset} (config ${config}) has no train split; it has ${Object.keys(splits).join(', ') || 'none'}`);
  }
  const wanted: ('train' | 'test')[] = opts.includeTest === false || splits.test === undefined || splits.test.length === 0 ? ['train'] : ['train', 'test'];
  const fs = new MemoryFileSystem();
  const files: HubDataset['files'] = [];
  for (const split of wanted) {
    const urls = splits[split] ?? [];
    if (urls.length !== 1) {
      throw new HubError(listUrl, `${opts.dataset} (config ${config}) stores its ${split} split in ${urls.length} Parquet shards; TuneLab reads one shard per split (download the files and merge them into one)`);
    }
    const url = new URL(urls[0] ?? '', `${baseOf(opts)}/`).href;
    const file = `${split}.parquet`;
    let bytes = (await opts.cache?.get(url)) ?? null;
    const cached = bytes !== null;
    if (bytes === null) {
      bytes = await download(url, file, opts);
      await opts.cache?.put(url, bytes);
    } else {
      opts.onProgress?.({ file, url, loaded: bytes.length, total: bytes.length, cached: true });
    }
    fs.set(`${opts.dataset}/${file}`, bytes);
    files.push({ split, url, bytes: bytes.length, cached });
  }
  return { fs, path: opts.dataset, config, files };
}
