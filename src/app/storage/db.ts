// The TuneLab IndexedDB database (through idb): the only place that opens it and declares its object stores.
// Every store module in this folder takes the TuneLabDb handle this returns, so the page, the data worker and
// tests can share one connection or open their own (IndexedDB serialises transactions across connections).
//
// API:
//   openTuneLabDb(name = 'tunelab'): Promise<TuneLabDb>   // creates/upgrades the stores; closes itself when a
//                                                           // newer version is opened elsewhere (another tab)
//   deleteTuneLabDb(name): Promise<void>
//   requestPersistentStorage(): Promise<boolean>            // navigator.storage.persist(); false when refused/absent
import { deleteDB, openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { OutboxEntry } from '../../tracking/outbox.ts';

export const DB_NAME = 'tunelab';
/** Bump with a new branch in upgrade() when a store or index is added. */
export const DB_VERSION = 1;

export interface ShardManifestRecord {
  key: string;
  /** ShardEntry.manifest (JSON text). */
  manifest: string;
  /** Sum of the blob sizes, bytes. */
  bytes: number;
  /** Unix epoch ms. */
  storedAt: number;
}

export interface HubFileRecord {
  url: string;
  bytes: ArrayBuffer;
  storedAt: number;
}

export interface StateRecord {
  key: string;
  /** JSON text of the value: what goes in is exactly what comes out (no structured-clone surprises). */
  json: string;
  updatedAt: number;
}

export interface TuneLabSchema extends DBSchema {
  /** One record per shard-cache key; written in the same transaction as its blobs. */
  shardManifests: { key: string; value: ShardManifestRecord };
  /** [cache key, blob name] -> bytes. */
  shardBlobs: { key: [string, string]; value: ArrayBuffer };
  /** Downloaded Hub files by URL (Parquet bytes), so a second prepare works offline. */
  hubFiles: { key: string; value: HubFileRecord };
  /** Durable key-value state (study state, settings): JSON text per key. */
  state: { key: string; value: StateRecord };
  /** [outbox name, seq] -> entry of the MLflow outbox. */
  outbox: { key: [string, number]; value: OutboxEntry & { box: string } };
}

export type TuneLabDb = IDBPDatabase<TuneLabSchema>;

export async function openTuneLabDb(name: string = DB_NAME): Promise<TuneLabDb> {
  const db = await openDB<TuneLabSchema>(name, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        database.createObjectStore('shardManifests', { keyPath: 'key' });
        database.createObjectStore('shardBlobs');
        database.createObjectStore('hubFiles', { keyPath: 'url' });
        database.createObjectStore('state', { keyPath: 'key' });
        database.createObjectStore('outbox');
      }
    },
    blocking() {
      // Another tab wants a newer version: let it upgrade; this connection's next call fails loudly.
      db.close();
    },
  });
  return db;
}

export async function deleteTuneLabDb(name: string = DB_NAME): Promise<void> {
  await deleteDB(name);
}

/** Asks the browser not to evict this origin's storage under pressure. Resolves false when refused or unsupported. */
export async function requestPersistentStorage(): Promise<boolean> {
  try {
    if (typeof navigator === 'undefined' || navigator.storage === undefined) return false;
    if (await navigator.storage.persisted()) return true;
    // persist() is not exposed in workers; the page should call this.
    if (typeof navigator.storage.persist !== 'function') return false;
    return await navigator.storage.persist();
  } catch {
    return false;
  }
}
