// One malformed fixture per validation error (test/fixtures/data/): the error or the skipped-row list must
// name the file and the line (or row) where the problem is.
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { DataError } from '../../src/data/errors.ts';
import { loadSource, resolveSource } from '../../src/data/sources.ts';
import { NodeDataFileSystem } from '../../src/cli/node-files.ts';

const fs = new NodeDataFileSystem(resolve(import.meta.dirname, '../fixtures/data'));

async function load(path: string) {
  return loadSource(await resolveSource(fs, path));
}

async function expectDataError(path: string, want: { line?: number; row?: number; column?: string; message: RegExp }): Promise<DataError> {
  let caught: unknown;
  try {
    await load(path);
  } catch (e) {
    caught = e;
  }
  expect(caught, `${path} should be rejected`).toBeInstanceOf(DataError);
  const err = caught as DataError;
  expect(err.file).toContain(path.replace(/\/.*$/, ''));
  expect(err.message).toContain(err.file);
  if (want.line !== undefined) {
    expect(err.line).toBe(want.line);
    expect(err.message).toContain(`${err.file}:${want.line}`);
  }
  if (want.column !== undefined) expect(err.column).toBe(want.column);
  expect(err.message).toMatch(want.message);
  return err;
}

describe('fatal dataset problems throw DataError with file and line', () => {
  it('missing file', async () => {
    await expectDataError('does-not-exist.jsonl', { message: /not found/ });
  });
  it('folder without a train file', async () => {
    const e = await expectDataError('no-train-folder', { message: /missing train file.*test\.jsonl/ });
    expect(e.file).toBe('no-train-folder/train.*');
  });
  it('empty file', async () => {
    await expectDataError('empty.jsonl', { message: /file is empty/ });
  });
  it('header only: no usable rows', async () => {
    await expectDataError('header-only.csv', { message: /no data rows/ });
  });
  it('missing text column', async () => {
    await expectDataError('missing-text-column.jsonl', { line: 1, message: /no text column .*"body", "label"/ });
  });
  it('missing label column', async () => {
    await expectDataError('missing-label-column.csv', { line: 1, message: /no label column .*"text", "score"/ });
  });
  it('bytes that are not UTF-8', async () => {
    await expectDataError('not-utf8.jsonl', { line: 4, message: /not UTF-8 \(byte 0xe9/ });
  });
  it('a single class', async () => {
    await expectDataError('single-class.jsonl', { column: 'label', message: /only one class: all 10 usable rows are positive/ });
  });
  it('more than two classes names the line of the third', async () => {
    await expectDataError('three-classes.jsonl', { line: 5, column: 'label', message: /more than 2 classes \(0, 1, 2/ });
  });
  it('an unrecognised label value', async () => {
    await expectDataError('unknown-label.jsonl', { line: 1, column: 'label', message: /label "good" is not recognised/ });
  });
  it('too many empty texts (4 of 20 > 10%)', async () => {
    await expectDataError('mostly-empty-texts.jsonl', { line: 3, message: /4 of 20 rows \(20\.0%\) cannot be used.*empty text.*mostly-empty-texts\.jsonl:6/ });
  });
  it('too many bad JSON lines (3 of 10)', async () => {
    await expectDataError('bad-json-many.jsonl', { line: 2, message: /3 of 10 rows .*not valid JSON/ });
  });
});

describe('skippable rows are skipped, counted and listed with file:line', () => {
  it('one empty text', async () => {
    const d = await load('empty-text.jsonl');
    expect(d.train.texts).toHaveLength(19);
    expect(d.skipped.count).toBe(1);
    expect(d.skipped.examples[0]).toMatchObject({ file: 'empty-text.jsonl', line: 7, column: 'text', reason: 'empty text' });
  });
  it('one bad JSON line', async () => {
    const d = await load('bad-json-line.jsonl');
    expect(d.train.texts).toHaveLength(19);
    expect(d.skipped.examples[0]).toMatchObject({ file: 'bad-json-line.jsonl', line: 9 });
    expect(d.skipped.examples[0]?.reason).toMatch(/not valid JSON/);
  });
  it('wrong CSV field count', async () => {
    const d = await load('wrong-field-count.csv');
    expect(d.train.texts).toHaveLength(19);
    expect(d.skipped.examples[0]).toMatchObject({ file: 'wrong-field-count.csv', line: 6, reason: '3 fields where the header has 2' });
    expect(d.train.texts[0]).toBe('row 0, with a comma');
  });
  it('header repeated inside the data', async () => {
    const d = await load('repeated-header.tsv');
    expect(d.train.texts).toHaveLength(20);
    expect(d.skipped).toEqual({ count: 1, examples: [{ file: 'repeated-header.tsv', line: 12, reason: 'header repeated inside the data' }] });
    expect(Array.from(d.train.labels.subarray(0, 4))).toEqual([0, 1, 0, 1]);
  });
  it('a stricter threshold turns skipped rows into an error', async () => {
    const files = await resolveSource(fs, 'empty-text.jsonl');
    await expect(loadSource(files, { maxSkippedFraction: 0.01 })).rejects.toThrow(/empty-text\.jsonl:7 \(column text\): 1 of 20 rows/);
  });
});
