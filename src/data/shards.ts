// Cache of tokenized splits. An entry is a JSON manifest plus named binary blobs (typed arrays, little-endian
// as in memory); the manifest records each blob's byte length and SHA-256 so a partial or corrupt entry is
// detected on read and rebuilt. Storage sits behind ShardStore: a folder in Node (src/cli/node-files.ts),
// IndexedDB in the browser, MemoryShardStore in tests.
import { sha256Hex } from './bytes.ts';
import type { EncodedTexts } from './tokenize.ts';

/** What a store keeps under one key. */
export interface ShardEntry {
  manifest: string;
  blobs: Record<string, Uint8Array>;
}

export interface ShardStore {
  /** The entry as stored (possibly partial), or null when the key is absent. */
  get(key: string): Promise<ShardEntry | null>;
  /** Replaces the entry atomically: a reader sees the old entry, the new one, or none. */
  put(key: string, entry: ShardEntry): Promise<void>;
  delete(key: string): Promise<void>;
}

export class MemoryShardStore implements ShardStore {
  readonly entries = new Map<string, ShardEntry>();
  get(key: string): Promise<ShardEntry | null> {
    return Promise.resolve(this.entries.get(key) ?? null);
  }
  put(key: string, entry: ShardEntry): Promise<void> {
    this.entries.set(key, entry);
    return Promise.resolve();
  }
  delete(key: string): Promise<void> {
    this.entries.delete(key);
    return Promise.resolve();
  }
}

/** Bump when the entry layout or the meaning of the tokenized data changes: old entries stop matching. */
export const SHARD_FORMAT_VERSION = 1;

export interface CacheKeyParts {
  /** SHA-256 over the dataset files' raw bytes (see datasetHash). */
  datasetHash: string;
  /** SHA-256 of tokenizer.json. */
  tokenizerHash: string;
  maxLen: number;
  /** Anything else that changes the contents: column/label options, and seed + limits for subsets. */
  variant?: Record<string, string | number | boolean | undefined>;
}

/** Hex SHA-256 of the canonical JSON of the parts (keys sorted, undefined dropped). */
export async function cacheKey(parts: CacheKeyParts): Promise<string> {
  const variant: Record<string, string | number | boolean> = {};
  for (const k of Object.keys(parts.variant ?? {}).sort()) {
    const v = parts.variant?.[k];
    if (v !== undefined) variant[k] = v;
  }
  return sha256Hex(JSON.stringify({
    format: SHARD_FORMAT_VERSION, data: parts.datasetHash, tokenizer: parts.tokenizerHash, maxLen: parts.maxLen, variant,
  }));
}

/** Hash of a dataset's files by role ("train", "test"): content only, so renaming or moving a file keeps the key. */
export async function datasetHash(files: { role: string; bytes: Uint8Array }[]): Promise<string> {
  const parts: string[] = [];
  for (const f of files) parts.push(`${f.role}:${f.bytes.length}:${await sha256Hex(f.bytes)}`);
  return sha256Hex(parts.join('\n'));
}

/** One tokenized split as cached: the encoded table and its labels. */
export interface CachedSplit extends EncodedTexts {
  labels: Uint8Array;
}

export interface ShardContents<M> {
  splits: Record<string, CachedSplit>;
  /** JSON-serialisable facts worth keeping with the shards (skipped rows, vocabulary size, ...). */
  meta: M;
}

interface SplitManifest {
  count: number;
  maxLen: number;
  idsType: 'u16' | 'u32';
}

interface Manifest {
  format: 'tunelab-shards';
  version: number;
  key: string;
  splits: Record<string, SplitManifest>;
  blobs: Record<string, { bytes: number; sha256: string }>;
  meta: unknown;
}

function bytesOf(a: Uint8Array | Uint16Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export async function encodeShardEntry<M>(key: string, contents: ShardContents<M>): Promise<ShardEntry> {
  const blobs: Record<string, Uint8Array> = {};
  const manifest: Manifest = { format: 'tunelab-shards', version: SHARD_FORMAT_VERSION, key, splits: {}, blobs: {}, meta: contents.meta };
  for (const [name, s] of Object.entries(contents.splits)) {
    manifest.splits[name] = { count: s.count, maxLen: s.maxLen, idsType: s.ids instanceof Uint16Array ? 'u16' : 'u32' };
    blobs[`${name}.ids`] = bytesOf(s.ids);
    blobs[`${name}.lengths`] = bytesOf(s.lengths);
    blobs[`${name}.fullLengths`] = bytesOf(s.fullLengths);
    blobs[`${name}.labels`] = s.labels;
  }
  for (const [name, b] of Object.entries(blobs)) manifest.blobs[name] = { bytes: b.length, sha256: await sha256Hex(b) };
  return { manifest: JSON.stringify(manifest), blobs };
}

/** Typed view of a blob, copying when the bytes are not aligned for the element size. */
function view<T>(b: Uint8Array, size: number, make: (buf: ArrayBuffer, off: number, len: number) => T): T {
  if (b.byteOffset % size === 0) return make(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength / size);
  const copy = b.slice();
  return make(copy.buffer, 0, copy.byteLength / size);
}

/** Why an entry was rejected, or the decoded contents. */
export type DecodeResult<M> = { ok: true; contents: ShardContents<M> } | { ok: false; reason: string };

export async function decodeShardEntry<M>(key: string, entry: ShardEntry): Promise<DecodeResult<M>> {
  let m: Manifest;
  try {
    m = JSON.parse(entry.manifest) as Manifest;
  } catch {
    return { ok: false, reason: 'manifest is not JSON' };
  }
  if (m.format !== 'tunelab-shards' || m.version !== SHARD_FORMAT_VERSION || m.key !== key) return { ok: false, reason: 'manifest format, version or key differ' };
  for (const [name, info] of Object.entries(m.blobs)) {
    const b = entry.blobs[name];
    if (b === undefined) return { ok: false, reason: `blob ${name} missing` };
    if (b.length !== info.bytes) return { ok: false, reason: `blob ${name} has ${b.length} bytes, manifest says ${info.bytes}` };
    if ((await sha256Hex(b)) !== info.sha256) return { ok: false, reason: `blob ${name} checksum differs` };
  }
  const splits: Record<string, CachedSplit> = {};
  for (const [name, s] of Object.entries(m.splits)) {
    const get = (part: string): Uint8Array => entry.blobs[`${name}.${part}`] ?? new Uint8Array(0);
    const ids = s.idsType === 'u16' ? view(get('ids'), 2, (b, o, n) => new Uint16Array(b, o, n)) : view(get('ids'), 4, (b, o, n) => new Uint32Array(b, o, n));
    const split: CachedSplit = {
      ids,
      lengths: view(get('lengths'), 2, (b, o, n) => new Uint16Array(b, o, n)),
      fullLengths: view(get('fullLengths'), 4, (b, o, n) => new Uint32Array(b, o, n)),
      labels: get('labels'),
      count: s.count,
      maxLen: s.maxLen,
    };
    if (split.ids.length !== s.count * s.maxLen || split.lengths.length !== s.count || split.labels.length !== s.count || split.fullLengths.length !== s.count) {
      return { ok: false, reason: `split ${name} sizes do not match its manifest` };
    }
    splits[name] = split;
  }
  return { ok: true, contents: { splits, meta: m.meta as M } };
}

/** Reads and checks an entry; a corrupt or partial one is deleted and reported as a miss. */
export async function loadShards<M>(store: ShardStore, key: string): Promise<ShardContents<M> | null> {
  const entry = await store.get(key);
  if (entry === null) return null;
  const r = await decodeShardEntry<M>(key, entry);
  if (r.ok) return r.contents;
  await store.delete(key);
  return null;
}

export async function saveShards<M>(store: ShardStore, key: string, contents: ShardContents<M>): Promise<void> {
  await store.put(key, await encodeShardEntry(key, contents));
}
