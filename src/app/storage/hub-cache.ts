// HubFileCache (src/data/hub.ts) on IndexedDB: downloaded Hub files (Parquet bytes, the listing JSON) by URL.
//
// API:
//   new IdbHubFileCache(db: TuneLabDb)
//   get(url): Promise<Uint8Array | null>   put(url, bytes): Promise<void>   delete(url)   clear()
import type { HubFileCache } from '../../data/hub.ts';
import type { TuneLabDb } from './db.ts';
import { isQuotaError, quotaError } from './quota.ts';

export class IdbHubFileCache implements HubFileCache {
  constructor(private readonly db: TuneLabDb) {}

  async get(url: string): Promise<Uint8Array | null> {
    const r = await this.db.get('hubFiles', url);
    return r === undefined ? null : new Uint8Array(r.bytes);
  }

  async put(url: string, bytes: Uint8Array): Promise<void> {
    const copy = bytes.slice().buffer;
    try {
      await this.db.put('hubFiles', { url, bytes: copy, storedAt: Date.now() });
    } catch (e) {
      if (isQuotaError(e)) throw await quotaError(`the download ${url}`, bytes.byteLength, e);
      throw e;
    }
  }

  async delete(url: string): Promise<void> {
    await this.db.delete('hubFiles', url);
  }

  async clear(): Promise<void> {
    await this.db.clear('hubFiles');
  }
}
