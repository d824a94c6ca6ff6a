// ShardStore (src/data/shards.ts) on IndexedDB: the manifest in `shardManifests`, each blob as an ArrayBuffer
// in `shardBlobs` under [key, name]. put() replaces the whole entry in ONE readwrite transaction over both
// stores, so a reader sees the old entry, the new one or none; a crash mid-write rolls back. Checksums in the
// manifest (checked by loadShards) catch anything else, and loadShards deletes a bad entry so it is rebuilt.
//
// API:
//   new IdbShardStore(db: TuneLabDb)
//   get(key) / put(key, entry) / delete(key)      // ShardStore; put throws StorageQuotaError when the disk is full
//   list(): Promise<ShardCacheInfo[]>             // {key, bytes, storedAt, blobs} per cached entry, newest first
//   clear(): Promise<void>                        // drops every shard entry
import type { ShardEntry, ShardStore } from '../../data/shards.ts';
import type { TuneLabDb } from './db.ts';
import { isQuotaError, quotaError } from './quota.ts';

export interface ShardCacheInfo {
  key: string;
  /** Total blob bytes. */
  bytes: number;
  /** Unix epoch ms. */
  storedAt: number;
  /** Blob names, e.g. "all.ids", "test.labels". */
  blobs: string[];
}

/** Array keys sort after strings, so [key, []] bounds every [key, name]. */
function blobRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key], [key, []]);
}

function tightBuffer(b: Uint8Array): ArrayBuffer {
  if (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer) return b.buffer;
  return b.slice().buffer;
}

export class IdbShardStore implements ShardStore {
  constructor(private readonly db: TuneLabDb) {}

  async get(key: string): Promise<ShardEntry | null> {
    const tx = this.db.transaction(['shardManifests', 'shardBlobs'], 'readonly');
    const [record, names, buffers] = await Promise.all([
      tx.objectStore('shardManifests').get(key),
      tx.objectStore('shardBlobs').getAllKeys(blobRange(key)),
      tx.objectStore('shardBlobs').getAll(blobRange(key)),
      tx.done,
    ]);
    if (record === undefined) return null;
    const blobs: Record<string, Uint8Array> = {};
    names.forEach(([, name], i) => {
      const buf = buffers[i];
      if (buf !== undefined) blobs[name] = new Uint8Array(buf);
    });
    return { manifest: record.manifest, blobs };
  }

  async put(key: string, entry: ShardEntry): Promise<void> {
    const bytes = Object.values(entry.blobs).reduce((a, b) => a + b.byteLength, 0) + entry.manifest.length;
    try {
      const tx = this.db.transaction(['shardManifests', 'shardBlobs'], 'readwrite');
      const blobs = tx.objectStore('shardBlobs');
      const writes: Promise<unknown>[] = [blobs.delete(blobRange(key))];
      for (const [name, b] of Object.entries(entry.blobs)) writes.push(blobs.put(tightBuffer(b), [key, name]));
      writes.push(tx.objectStore('shardManifests').put({ key, manifest: entry.manifest, bytes, storedAt: Date.now() }));
      await Promise.all([...writes, tx.done]);
    } catch (e) {
      if (isQuotaError(e)) throw await quotaError(`dataset shards ${key.slice(0, 12)}`, bytes, e);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    const tx = this.db.transaction(['shardManifests', 'shardBlobs'], 'readwrite');
    await Promise.all([tx.objectStore('shardManifests').delete(key), tx.objectStore('shardBlobs').delete(blobRange(key)), tx.done]);
  }

  async list(): Promise<ShardCacheInfo[]> {
    const tx = this.db.transaction(['shardManifests', 'shardBlobs'], 'readonly');
    const [records, keys] = await Promise.all([tx.objectStore('shardManifests').getAll(), tx.objectStore('shardBlobs').getAllKeys(), tx.done]);
    const names = new Map<string, string[]>();
    for (const [k, name] of keys) names.set(k, [...(names.get(k) ?? []), name]);
    return records
      .map((r) => ({ key: r.key, bytes: r.bytes, storedAt: r.storedAt, blobs: names.get(r.key) ?? [] }))
      .sort((a, b) => b.storedAt - a.storedAt);
  }

  async clear(): Promise<void> {
    const tx = this.db.transaction(['shardManifests', 'shardBlobs'], 'readwrite');
    await Promise.all([tx.objectStore('shardManifests').clear(), tx.objectStore('shardBlobs').clear(), tx.done]);
  }
}
