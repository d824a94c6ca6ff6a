// Shard cache: keys, entry encoding, corruption detection, and the Node cache folder store.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cacheKey, datasetHash, decodeShardEntry, encodeShardEntry, loadShards, MemoryShardStore, saveShards, type CachedSplit,
} from '../../src/data/shards.ts';
import { NodeShardStore, shardCacheDir } from '../../src/cli/node-files.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tunelab-shards-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function split(count: number, maxLen: number, wide = false): CachedSplit {
  const ids = wide ? new Uint32Array(count * maxLen) : new Uint16Array(count * maxLen);
  for (let i = 0; i < ids.length; i++) ids[i] = (i * 7919) % (wide ? 100000 : 30522);
  return {
    ids, count, maxLen,
    lengths: Uint16Array.from({ length: count }, (_, i) => 2 + (i % (maxLen - 1))),
    fullLengths: Uint32Array.from({ length: count }, (_, i) => 2 + i * 3),
    labels: Uint8Array.from({ length: count }, (_, i) => i % 2),
  };
}

describe('cache keys', () => {
  it('change with data, tokenizer, maxLen and variant; ignore key order and undefined', async () => {
    const base = { datasetHash: 'a', tokenizerHash: 'b', maxLen: 128 };
    const k = await cacheKey({ ...base, variant: { x: 1, y: 'z', u: undefined } });
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(await cacheKey({ ...base, variant: { y: 'z', x: 1 } })).toBe(k);
    expect(await cacheKey({ ...base, variant: { y: 'z', x: 2 } })).not.toBe(k);
    expect(await cacheKey({ ...base, maxLen: 129, variant: { y: 'z', x: 1 } })).not.toBe(k);
    expect(await cacheKey({ ...base, tokenizerHash: 'c', variant: { y: 'z', x: 1 } })).not.toBe(k);
  });
  it('dataset hash depends on content and role', async () => {
    const a = Uint8Array.from([1, 2, 3]);
    const h = await datasetHash([{ role: 'train', bytes: a }]);
    expect(await datasetHash([{ role: 'train', bytes: Uint8Array.from([1, 2, 3]) }])).toBe(h);
    expect(await datasetHash([{ role: 'train', bytes: Uint8Array.from([1, 2, 4]) }])).not.toBe(h);
    expect(await datasetHash([{ role: 'test', bytes: a }])).not.toBe(h);
  });
});

describe('entries', () => {
  const contents = { splits: { all: split(33, 17), test: split(5, 17, true) }, meta: { note: 'x' } };
  it('round trip through encode/decode keeps every array and the meta', async () => {
    const e = await encodeShardEntry('k1', contents);
    const d = await decodeShardEntry<{ note: string }>('k1', e);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    expect(d.contents.meta).toEqual({ note: 'x' });
    expect(d.contents.splits.all).toEqual(contents.splits.all);
    expect(d.contents.splits.test?.ids).toBeInstanceOf(Uint32Array);
    expect(d.contents.splits.test).toEqual(contents.splits.test);
  });
  it('detects a flipped byte, a truncated blob, a missing blob and a wrong key', async () => {
    const e = await encodeShardEntry('k1', contents);
    const flipped = { ...e, blobs: { ...e.blobs, 'all.ids': Uint8Array.from(e.blobs['all.ids'] ?? []) } };
    const ids = flipped.blobs['all.ids'];
    if (ids) ids[10] = (ids[10] ?? 0) ^ 1;
    expect(await decodeShardEntry('k1', flipped)).toEqual({ ok: false, reason: 'blob all.ids checksum differs' });
    const cut = { ...e, blobs: { ...e.blobs, 'all.labels': e.blobs['all.labels']?.subarray(1) ?? new Uint8Array() } };
    expect(await decodeShardEntry('k1', cut)).toMatchObject({ ok: false, reason: expect.stringMatching(/all\.labels has 32 bytes/) as unknown });
    const missing = { ...e, blobs: { ...e.blobs } };
    delete missing.blobs['test.lengths'];
    expect(await decodeShardEntry('k1', missing)).toEqual({ ok: false, reason: 'blob test.lengths missing' });
    expect((await decodeShardEntry('k2', e)).ok).toBe(false);
  });
  it('a corrupt entry is deleted from the store and reported as a miss', async () => {
    const store = new MemoryShardStore();
    await saveShards(store, 'abc', contents);
    expect(await loadShards(store, 'abc')).not.toBeNull();
    const e = store.entries.get('abc');
    if (e) e.manifest = e.manifest.slice(0, 20);
    expect(await loadShards(store, 'abc')).toBeNull();
    expect(store.entries.has('abc')).toBe(false);
  });
});

describe('NodeShardStore', () => {
  const key = 'ab'.repeat(32);
  const contents = { splits: { all: split(40, 9) }, meta: { n: 1 } };
  it('writes one folder per key via a temp folder and reads it back', async () => {
    const store = new NodeShardStore(join(tmp, 'cache'));
    expect(await store.get(key)).toBeNull();
    await saveShards(store, key, contents);
    expect(readdirSync(join(tmp, 'cache'))).toEqual([key]);
    expect(readdirSync(join(tmp, 'cache', key)).sort()).toEqual(['all.fullLengths.bin', 'all.ids.bin', 'all.labels.bin', 'all.lengths.bin', 'manifest.json']);
    const back = await loadShards<{ n: number }>(store, key);
    expect(back?.splits.all).toEqual(contents.splits.all);
    await saveShards(store, key, contents); // replacing an existing entry works
    expect(readdirSync(join(tmp, 'cache'))).toEqual([key]);
  });
  it('a truncated blob on disk (partial write) is detected and the entry removed', async () => {
    const store = new NodeShardStore(join(tmp, 'cache2'));
    await saveShards(store, key, contents);
    truncateSync(join(tmp, 'cache2', key, 'all.ids.bin'), 100);
    expect(await loadShards(store, key)).toBeNull();
    expect(readdirSync(join(tmp, 'cache2'))).toEqual([]);
    await saveShards(store, key, contents);
    writeFileSync(join(tmp, 'cache2', key, 'manifest.json'), '{"format":"tunelab-sh');
    expect(await loadShards(store, key)).toBeNull();
  });
  it('rejects keys that are not hex (no path tricks)', async () => {
    await expect(new NodeShardStore(tmp).get('../etc')).rejects.toThrow(/hex/);
  });
  it('cache folder: argument, then TUNELAB_CACHE_DIR, then ~/.cache/tunelab/shards', () => {
    expect(shardCacheDir('/x/y', { TUNELAB_CACHE_DIR: '/env' })).toBe('/x/y');
    expect(shardCacheDir(undefined, { TUNELAB_CACHE_DIR: '/env' })).toBe('/env');
    expect(shardCacheDir(undefined, {})).toMatch(/\.cache\/tunelab\/shards$/);
  });
});
