// Reading datasets in every supported format, folder vs file sources, column detection and label mapping.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTar } from 'nanotar';
import { decodeUtf8, firstInvalidUtf8Offset, gunzip, isGzip } from '../../src/data/bytes.ts';
import { DataError } from '../../src/data/errors.ts';
import { MemoryFileSystem } from '../../src/data/files.ts';
import { loadSource, resolveSource } from '../../src/data/sources.ts';
import { NodeDataFileSystem } from '../../src/cli/node-files.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/data');
const enc = new TextEncoder();

async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function loadMem(files: Record<string, string | Uint8Array>, path: string) {
  const fs = new MemoryFileSystem(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? enc.encode(v) : v]));
  return loadSource(await resolveSource(fs, path));
}

describe('bytes', () => {
  it('gzip round trip and magic detection', async () => {
    const raw = enc.encode('hello\nworld');
    const gz = await gzip(raw);
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(raw)).toBe(false);
    expect(await gunzip(gz, 'x.gz')).toEqual(raw);
    await expect(gunzip(gz.subarray(0, gz.length - 6), 'cut.gz')).rejects.toThrow(/cut\.gz: not a valid gzip file/);
  });
  it('finds the first byte that is not UTF-8', () => {
    expect(firstInvalidUtf8Offset(enc.encode('aé東🙂'))).toBe(10);
    expect(firstInvalidUtf8Offset(Uint8Array.from([0x61, 0xc0, 0x80]))).toBe(1); // overlong
    expect(firstInvalidUtf8Offset(Uint8Array.from([0x61, 0x62, 0xed, 0xa0, 0x80]))).toBe(2); // surrogate
    expect(firstInvalidUtf8Offset(Uint8Array.from([0xe6, 0x9d]))).toBe(0); // truncated
    expect(() => decodeUtf8(Uint8Array.from([0x61, 0x0a, 0x62, 0x0a, 0xff]), 'f.txt')).toThrow(/^f\.txt:3: bytes are not UTF-8 \(byte 0xff at offset 4\)/);
  });
});

describe('formats', () => {
  const jsonl = '{"text":"good film","label":1}\n{"text":"bad film","label":0}\n';
  it('JSONL, plain and gzipped, give the same rows', async () => {
    const a = await loadMem({ 'd.jsonl': jsonl }, 'd.jsonl');
    const b = await loadMem({ 'd.jsonl.gz': await gzip(enc.encode(jsonl)) }, 'd.jsonl.gz');
    expect(a.train.texts).toEqual(['good film', 'bad film']);
    expect(Array.from(a.train.labels)).toEqual([1, 0]);
    expect(b).toEqual(a);
    expect(a.test).toBeUndefined();
  });
  it('gzip is detected from the bytes even without .gz', async () => {
    const a = await loadMem({ 'data.jsonl': await gzip(enc.encode(jsonl)) }, 'data.jsonl');
    expect(a.train.texts).toHaveLength(2);
  });
  it('a JSON array file', async () => {
    const a = await loadMem({ 'd.json': '[{"review":"x","sentiment":"positive"},{"review":"y","sentiment":"negative"}]' }, 'd.json');
    expect(a.train.texts).toEqual(['x', 'y']);
    expect(Array.from(a.train.labels)).toEqual([1, 0]);
  });
  it('CSV with quoted multi-line fields and a rating column (>= 7 of 10 positive)', async () => {
    const fs = new NodeDataFileSystem(FIXTURES);
    const a = await loadSource(await resolveSource(fs, 'ratings.csv'));
    expect(a.train.texts[0]).toBe('a long\nreview, over two lines');
    expect(a.train.texts[2]).toBe('good "quoted"');
    expect(Array.from(a.train.labels)).toEqual([1, 0, 1, 0, 1, 0]);
    const strict = await loadSource(await resolveSource(fs, 'ratings.csv'), { ratingThreshold: 9 });
    expect(Array.from(strict.train.labels)).toEqual([1, 0, 0, 0, 0, 0]);
  });
  it('5-star ratings default to >= 4 positive', async () => {
    const a = await loadMem({ 'r.csv': 'text,stars\na,5\nb,1\nc,4\nd,3\n' }, 'r.csv');
    expect(Array.from(a.train.labels)).toEqual([1, 0, 1, 0]);
  });
  it('TSV, CRLF line ends, true/false labels, case-insensitive column names', async () => {
    const a = await loadMem({ 'd.tsv': 'Sentence\tLabel\r\nfine\ttrue\r\nawful\tFALSE\r\n' }, 'd.tsv');
    expect(a.train.texts).toEqual(['fine', 'awful']);
    expect(Array.from(a.train.labels)).toEqual([1, 0]);
  });
  it('user-named columns override detection', async () => {
    const csv = 'text,label,body,y\nignored,0,first,pos\nignored,0,second,neg\n';
    const fs = new MemoryFileSystem([['d.csv', enc.encode(csv)]]);
    const a = await loadSource(await resolveSource(fs, 'd.csv'), { textColumn: 'body', labelColumn: 'y' });
    expect(a.train.texts).toEqual(['first', 'second']);
    expect(Array.from(a.train.labels)).toEqual([1, 0]);
    await expect(loadSource(await resolveSource(fs, 'd.csv'), { textColumn: 'nope' })).rejects.toThrow(/d\.csv:1: no text column \("nope"\)/);
  });
  it('Parquet (pyarrow, snappy) with content/target int64 columns', async () => {
    const fs = new NodeDataFileSystem(FIXTURES);
    const a = await loadSource(await resolveSource(fs, 'small.parquet'));
    expect(a.train.texts).toHaveLength(12);
    expect(a.train.texts[3]).toBe('parquet review 3');
    expect(Array.from(a.train.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });
  it('a corrupt Parquet file is a DataError', async () => {
    const bytes = readFileSync(resolve(FIXTURES, 'small.parquet')).subarray(0, 300);
    await expect(loadMem({ 'x.parquet': new Uint8Array(bytes) }, 'x.parquet')).rejects.toThrow(/x\.parquet: not a readable Parquet file/);
  });
  it('the aclImdb tar.gz layout gives train and test, negatives first then by id', async () => {
    const tar = createTar([
      { name: 'aclImdb/README', data: 'readme' },
      { name: 'aclImdb/train/pos/10_9.txt', data: 'pos ten' },
      { name: 'aclImdb/train/pos/2_7.txt', data: 'pos two' },
      { name: 'aclImdb/train/neg/5_1.txt', data: 'neg five' },
      { name: 'aclImdb/train/unsup/0_0.txt', data: 'unlabelled' },
      { name: 'aclImdb/test/neg/0_2.txt', data: 'test neg' },
      { name: 'aclImdb/test/pos/0_10.txt', data: 'test pos é' },
    ]);
    const a = await loadMem({ 'aclImdb_v1.tar.gz': await gzip(tar) }, 'aclImdb_v1.tar.gz');
    expect(a.train.texts).toEqual(['neg five', 'pos two', 'pos ten']);
    expect(Array.from(a.train.labels)).toEqual([0, 1, 1]);
    expect(a.test?.texts).toEqual(['test neg', 'test pos é']);
  });
});

describe('sources', () => {
  it('a folder holds train.* and test.*; File objects from a browser folder pick work the same', async () => {
    const train = '{"text":"a","label":1}\n{"text":"b","label":0}\n';
    const test = 'text,label\nc,0\nd,1\ne,1\n';
    const files = [new File([train], 'train.jsonl'), new File([test], 'test.csv')];
    for (const f of files) Object.defineProperty(f, 'webkitRelativePath', { value: `mydata/${f.name}` });
    const fs = MemoryFileSystem.fromFiles(files);
    expect(await fs.list('')).toEqual(['mydata']);
    const src = await resolveSource(fs, 'mydata');
    expect(src.kind).toBe('folder');
    expect(src.train.path).toBe('mydata/train.jsonl');
    expect(src.test?.path).toBe('mydata/test.csv');
    const d = await loadSource(src);
    expect(d.train.texts).toEqual(['a', 'b']);
    expect(d.test?.texts).toEqual(['c', 'd', 'e']);
  });
  it('two train files in a folder are ambiguous', async () => {
    const fs = new MemoryFileSystem([['f/train.csv', enc.encode('text,label\na,1\n')], ['f/train.jsonl', enc.encode('{}')]]);
    await expect(resolveSource(fs, 'f')).rejects.toThrow(DataError);
  });
  it('the shared IMDB folder resolves to train.jsonl.gz + test.jsonl.gz', async () => {
    const imdb = resolve(import.meta.dirname, '../../../shared/data/imdb');
    const fs = new NodeDataFileSystem();
    const src = await resolveSource(fs, imdb);
    expect(src.train.path, `IMDB missing at ${imdb}`).toBe(`${imdb}/train.jsonl.gz`);
    expect(src.test?.path).toBe(`${imdb}/test.jsonl.gz`);
  });
});
