// Parses one dataset file (already inflated) into a table of rows with their line or row number:
// JSONL / JSON array, CSV / TSV (papaparse) and Parquet (hyparquet). Rows that cannot be read are returned
// as skipped rows with a reason; validate.ts decides whether there are too many.
import Papa from 'papaparse';
import { parquetReadObjects } from 'hyparquet';
import { decodeUtf8 } from './bytes.ts';
import { DataError, type SkippedRow } from './errors.ts';

export type TableFormat = 'jsonl' | 'json' | 'csv' | 'tsv' | 'parquet';

export interface TableRow {
  values: Record<string, unknown>;
  /** 1-based line of the row's first character (text formats). */
  line?: number;
  /** 1-based row number (Parquet, where lines do not exist). */
  row?: number;
}

export interface ParsedTable {
  file: string;
  format: TableFormat;
  /** Column names in file order (CSV header; union of JSON keys; Parquet schema order). */
  columns: string[];
  rows: TableRow[];
  /** Unparseable rows and repeated headers, in file order. */
  skipped: SkippedRow[];
}

const PARQUET_MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"

/** Format from the file name (a trailing .gz ignored), else from the first bytes. */
export function detectTableFormat(name: string, bytes: Uint8Array): TableFormat {
  const lower = name.toLowerCase().replace(/\.gz$/, '');
  if (/\.(jsonl|ndjson)$/.test(lower)) return 'jsonl';
  if (lower.endsWith('.json')) return firstNonSpace(bytes) === 0x5b ? 'json' : 'jsonl';
  if (lower.endsWith('.csv')) return 'csv';
  if (/\.(tsv|tab)$/.test(lower)) return 'tsv';
  if (/\.(parquet|pq)$/.test(lower)) return 'parquet';
  if (PARQUET_MAGIC.every((b, i) => bytes[i] === b)) return 'parquet';
  const c = firstNonSpace(bytes);
  if (c === 0x7b) return 'jsonl';
  if (c === 0x5b) return 'json';
  const head = new TextDecoder().decode(bytes.subarray(0, 4096));
  const firstLine = head.split('\n')[0] ?? '';
  return firstLine.includes('\t') ? 'tsv' : 'csv';
}

function firstNonSpace(bytes: Uint8Array): number | undefined {
  for (let i = 0; i < Math.min(bytes.length, 4096); i++) {
    const b = bytes[i] ?? 0;
    if (b === 0xef && i === 0) {
      i += 2; // UTF-8 BOM
      continue;
    }
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) return b;
  }
  return undefined;
}

export async function parseTable(file: string, bytes: Uint8Array, format: TableFormat): Promise<ParsedTable> {
  switch (format) {
    case 'parquet':
      return parseParquet(file, bytes);
    case 'jsonl':
      return parseJsonLines(file, decodeUtf8(bytes, file));
    case 'json':
      return parseJsonArray(file, decodeUtf8(bytes, file));
    case 'csv':
      return parseDelimited(file, decodeUtf8(bytes, file), ',', 'csv');
    case 'tsv':
      return parseDelimited(file, decodeUtf8(bytes, file), '\t', 'tsv');
  }
}

function shortError(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.length > 100 ? `${m.slice(0, 100)}...` : m;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseJsonLines(file: string, text: string): ParsedTable {
  const rows: TableRow[] = [];
  const skipped: SkippedRow[] = [];
  const columns = new Set<string>();
  let line = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    line++;
    const raw = text.slice(start, end).trim();
    start = end + 1;
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (e) {
      skipped.push({ file, line, reason: `not valid JSON (${shortError(e)})` });
      continue;
    }
    if (!isRecord(value)) {
      skipped.push({ file, line, reason: 'not a JSON object' });
      continue;
    }
    for (const k of Object.keys(value)) columns.add(k);
    rows.push({ values: value, line });
  }
  return { file, format: 'jsonl', columns: [...columns], rows, skipped };
}

export function parseJsonArray(file: string, text: string): ParsedTable {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError({ file }, `not valid JSON (${shortError(e)})`);
  }
  if (!Array.isArray(value)) throw new DataError({ file }, 'a .json dataset must be an array of objects (or use JSON Lines)');
  const rows: TableRow[] = [];
  const skipped: SkippedRow[] = [];
  const columns = new Set<string>();
  value.forEach((item: unknown, i) => {
    if (!isRecord(item)) {
      skipped.push({ file, row: i + 1, reason: 'not a JSON object' });
      return;
    }
    for (const k of Object.keys(item)) columns.add(k);
    rows.push({ values: item, row: i + 1 });
  });
  return { file, format: 'json', columns: [...columns], rows, skipped };
}

/** CSV/TSV with a header row. Quoted fields may span lines; `line` is where the row starts. */
export function parseDelimited(file: string, text: string, delimiter: string, format: 'csv' | 'tsv'): ParsedTable {
  const rows: TableRow[] = [];
  const skipped: SkippedRow[] = [];
  let header: string[] | null = null;
  // Line counting is incremental: newlines between the previous row's end and this row's start.
  let counted = 0;
  let line = 1;
  let rowStart = 0;
  const lineAt = (offset: number): number => {
    for (let i = counted; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
    counted = Math.max(counted, offset);
    return line;
  };
  Papa.parse<string[]>(text, {
    delimiter,
    quoteChar: '"',
    step: (result) => {
      const cells = result.data;
      const at = lineAt(skipLeadingNewlines(text, rowStart));
      rowStart = result.meta.cursor;
      const last = cells.length - 1;
      if (last >= 0 && cells[last]?.endsWith('\r')) cells[last] = cells[last].slice(0, -1);
      if (cells.length === 1 && cells[0]?.trim() === '') return; // blank line
      if (header === null) {
        header = cells.map((c) => c.trim());
        return;
      }
      const error = result.errors[0];
      if (error !== undefined) {
        skipped.push({ file, line: at, reason: `unparseable ${format.toUpperCase()} row (${error.message})` });
        return;
      }
      if (cells.length !== header.length) {
        skipped.push({ file, line: at, reason: `${cells.length} fields where the header has ${header.length}` });
        return;
      }
      if (cells.every((c, i) => c.trim() === header?.[i])) {
        skipped.push({ file, line: at, reason: 'header repeated inside the data' });
        return;
      }
      const values: Record<string, unknown> = {};
      header.forEach((name, i) => {
        values[name] = cells[i];
      });
      rows.push({ values, line: at });
    },
  });
  return { file, format, columns: header ?? [], rows, skipped };
}

function skipLeadingNewlines(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && (text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13)) i++;
  return i;
}

export async function parseParquet(file: string, bytes: Uint8Array): Promise<ParsedTable> {
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  let objects: Record<string, unknown>[];
  try {
    objects = await parquetReadObjects({ file: buffer, rowFormat: 'object' });
  } catch (e) {
    throw new DataError({ file }, `not a readable Parquet file (${shortError(e)})`);
  }
  const columns = new Set<string>();
  const rows: TableRow[] = objects.map((values, i) => {
    if (i < 100) for (const k of Object.keys(values)) columns.add(k);
    return { values, row: i + 1 };
  });
  return { file, format: 'parquet', columns: [...columns], rows, skipped: [] };
}
