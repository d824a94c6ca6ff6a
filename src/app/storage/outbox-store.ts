// OutboxStore (src/tracking/outbox.ts) on IndexedDB: entries under [box, seq] in the `outbox` store, so load()
// returns them in seq order with one key-range read; append and ack are one transaction each.
//
// API:
//   new IdbOutboxStore(db: TuneLabDb, box = 'mlflow')   // `box` separates outboxes (e.g. one per tracking server)
//   load(): Promise<OutboxEntry[]>   append(entry): Promise<void>   ack(seqs): Promise<void>
import type { OutboxEntry, OutboxStore } from '../../tracking/outbox.ts';
import type { TuneLabDb } from './db.ts';
import { isQuotaError, quotaError } from './quota.ts';

export class IdbOutboxStore implements OutboxStore {
  constructor(private readonly db: TuneLabDb, readonly box: string = 'mlflow') {}

  private range(): IDBKeyRange {
    return IDBKeyRange.bound([this.box, -Infinity], [this.box, Infinity]);
  }

  async load(): Promise<OutboxEntry[]> {
    const rows = await this.db.getAll('outbox', this.range());
    return rows.map(({ seq, enqueuedAt, op }) => ({ seq, enqueuedAt, op }));
  }

  async append(entry: OutboxEntry): Promise<void> {
    try {
      await this.db.put('outbox', { ...entry, box: this.box }, [this.box, entry.seq]);
    } catch (e) {
      if (isQuotaError(e)) throw await quotaError('a tracking operation', JSON.stringify(entry).length * 2, e);
      throw e;
    }
  }

  async ack(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;
    const tx = this.db.transaction('outbox', 'readwrite');
    await Promise.all([...seqs.map((s) => tx.store.delete([this.box, s])), tx.done]);
  }
}
