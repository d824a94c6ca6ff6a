// Durable key-value state on IndexedDB (`state` store): each value is kept as its JSON text, and every write is
// one transaction, so a reload or crash sees the old value or the new one, never a mix. putMany() writes several
// keys in one transaction (all or none). IdbStudyStore adapts it to the search module's StudyStore.
//
// API:
//   new IdbStateStore(db: TuneLabDb)
//   get<T = unknown>(key): Promise<T | undefined>        // JSON.parse of what was stored (no validation: check T yourself)
//   put(key, value): Promise<void>                       // value must be JSON-serialisable (throws TypeError otherwise)
//   putMany(entries: Record<string, unknown>): Promise<void>   // one transaction
//   delete(key) / keys(prefix?) / updatedAt(key)
//   new IdbStudyStore(state: IdbStateStore, studyId: string)   // StudyStore: load() parses with parseStudyState
import { parseStudyState, type StudyState, type StudyStore } from '../../search/study.ts';
import type { StateRecord, TuneLabDb } from './db.ts';
import { isQuotaError, quotaError } from './quota.ts';

function toJson(key: string, value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError(`state "${key}": value is not JSON-serialisable`);
  return json;
}

export class IdbStateStore {
  constructor(private readonly db: TuneLabDb) {}

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const r = await this.db.get('state', key);
    if (r === undefined) return undefined;
    try {
      return JSON.parse(r.json) as T;
    } catch (e) {
      throw new Error(`state "${key}": stored value is not JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  async updatedAt(key: string): Promise<number | undefined> {
    return (await this.db.get('state', key))?.updatedAt;
  }

  put(key: string, value: unknown): Promise<void> {
    return this.putMany({ [key]: value });
  }

  async putMany(entries: Record<string, unknown>): Promise<void> {
    const now = Date.now();
    const records: StateRecord[] = Object.entries(entries).map(([key, value]) => ({ key, json: toJson(key, value), updatedAt: now }));
    try {
      const tx = this.db.transaction('state', 'readwrite');
      await Promise.all([...records.map((r) => tx.store.put(r)), tx.done]);
    } catch (e) {
      if (isQuotaError(e)) throw await quotaError(`state ${Object.keys(entries).join(', ')}`, records.reduce((a, r) => a + r.json.length * 2, 0), e);
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await this.db.delete('state', key);
  }

  /** Keys, sorted; only those starting with prefix when given. */
  async keys(prefix?: string): Promise<string[]> {
    const range = prefix === undefined || prefix === '' ? undefined : IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    return this.db.getAllKeys('state', range);
  }
}

/** A study's state under the key "study:<studyId>". */
export class IdbStudyStore implements StudyStore {
  readonly key: string;
  constructor(private readonly state: IdbStateStore, studyId: string) {
    this.key = `study:${studyId}`;
  }

  async load(): Promise<StudyState | undefined> {
    const v = await this.state.get(this.key);
    if (v === undefined) return undefined;
    try {
      return parseStudyState(v);
    } catch (e) {
      throw new Error(`IndexedDB state "${this.key}": ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  save(state: StudyState): Promise<void> {
    return this.state.put(this.key, state);
  }
}
