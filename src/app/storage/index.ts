// Browser storage (IndexedDB through idb): the one module family that talks to IndexedDB. See each file's header.
export { DB_NAME, DB_VERSION, deleteTuneLabDb, openTuneLabDb, requestPersistentStorage, type TuneLabDb } from './db.ts';
export { IdbShardStore, type ShardCacheInfo } from './shard-store.ts';
export { IdbStateStore, IdbStudyStore } from './state-store.ts';
export { IdbOutboxStore } from './outbox-store.ts';
export { IdbHubFileCache } from './hub-cache.ts';
export { StorageQuotaError, formatBytes, isQuotaError, storageEstimate, type StorageEstimateInfo } from './quota.ts';
