// A dataset source: a folder holding train.* (and optionally test.*), a single file (train only), or the
// aclImdb tar.gz (train and test). resolveSource reads the raw bytes (hashed for the cache key);
// loadSource parses and validates them into labelled texts.
import { maybeGunzip } from './bytes.ts';
import { DataError, type SkippedRow, type SkippedSummary } from './errors.ts';
import { baseName, joinPath, type DataFileSystem } from './files.ts';
import { detectTableFormat, parseTable } from './formats.ts';
import { isTar, readImdbTar } from './imdb-tar.ts';
import type { LabelledTexts } from './types.ts';
import { validateTable, type ValidateOptions } from './validate.ts';

export interface DataSourceSpec extends ValidateOptions {
  /** Folder (with train.* and test.*) or file path, as the DataFileSystem names it. */
  path: string;
}

export interface SourceFile {
  path: string;
  bytes: Uint8Array;
}

export interface SourceFiles {
  kind: 'folder' | 'file';
  train: SourceFile;
  test?: SourceFile;
}

export interface LoadedDataset {
  train: LabelledTexts;
  test?: LabelledTexts;
  skipped: SkippedSummary;
}

/** How many skipped rows are listed with their location (all are counted). */
export const SKIPPED_EXAMPLES = 20;

const DATA_FILE = /^(train|test)\.(jsonl|ndjson|json|csv|tsv|tab|parquet|pq|tar)(\.gz)?$|^(train|test)\.tgz$/i;

export async function resolveSource(fs: DataFileSystem, path: string): Promise<SourceFiles> {
  const entries = await fs.list(path);
  if (entries === null) {
    const bytes = await fs.read(path);
    if (bytes === null) throw new DataError({ file: path }, 'file or folder not found');
    return { kind: 'file', train: { path, bytes } };
  }
  const pick = async (split: 'train' | 'test'): Promise<SourceFile | undefined> => {
    const hits = entries.filter((n) => DATA_FILE.test(n) && n.toLowerCase().startsWith(`${split}.`));
    if (hits.length > 1) throw new DataError({ file: joinPath(path, `${split}.*`) }, `more than one ${split} file (${hits.join(', ')}); keep one`);
    const name = hits[0];
    if (name === undefined) return undefined;
    const file = joinPath(path, name);
    const bytes = await fs.read(file);
    if (bytes === null) throw new DataError({ file }, 'file not found');
    return { path: file, bytes };
  };
  const train = await pick('train');
  if (train === undefined) {
    const listed = entries.length > 0 ? entries.slice(0, 10).join(', ') : 'nothing';
    throw new DataError({ file: joinPath(path, 'train.*') },
      `missing train file: the folder needs train.jsonl, train.csv, train.tsv or train.parquet (optionally .gz); it holds ${listed}`);
  }
  const test = await pick('test');
  return test === undefined ? { kind: 'folder', train } : { kind: 'folder', train, test };
}

interface LoadedFile {
  data: LabelledTexts;
  skipped: SkippedRow[];
  /** The aclImdb archive carries test too. */
  archiveTest?: LabelledTexts;
}

async function loadFile(file: SourceFile, opts: ValidateOptions): Promise<LoadedFile> {
  if (file.bytes.length === 0) throw new DataError({ file: file.path }, 'file is empty');
  const bytes = await maybeGunzip(file.bytes, file.path);
  if (bytes.length === 0) throw new DataError({ file: file.path }, 'file is empty (after gunzip)');
  if (isTar(bytes)) {
    const archive = readImdbTar(file.path, bytes);
    return archive.test === undefined ? { data: archive.train, skipped: [] } : { data: archive.train, skipped: [], archiveTest: archive.test };
  }
  const table = await parseTable(file.path, bytes, detectTableFormat(baseName(file.path), bytes));
  const v = validateTable(table, opts);
  return { data: v.data, skipped: v.skipped };
}

export interface LoadOptions extends ValidateOptions {
  /** Leave a separate test file unread (it is neither parsed nor validated). */
  skipTest?: boolean;
}

export async function loadSource(files: SourceFiles, opts: LoadOptions = {}): Promise<LoadedDataset> {
  const train = await loadFile(files.train, opts);
  const test = files.test && opts.skipTest !== true ? await loadFile(files.test, { ...opts, requireBothClasses: false }) : undefined;
  const all = [...train.skipped, ...(test?.skipped ?? [])];
  const skipped = { count: all.length, examples: all.slice(0, SKIPPED_EXAMPLES) };
  const testData = test?.data ?? (opts.skipTest === true ? undefined : train.archiveTest);
  return testData === undefined ? { train: train.data, skipped } : { train: train.data, test: testData, skipped };
}
