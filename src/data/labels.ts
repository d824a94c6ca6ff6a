// Which columns hold the text and the label, and how a label cell becomes class 0 (negative) or 1 (positive).
import { DataError } from './errors.ts';
import type { ParsedTable, TableRow } from './formats.ts';

export const TEXT_COLUMNS = ['text', 'review', 'sentence', 'content'] as const;
export const LABEL_COLUMNS = ['label', 'labels', 'sentiment', 'rating', 'stars', 'target'] as const;
/** Columns read as star ratings (IMDB style) rather than class labels. */
const RATING_COLUMNS = new Set(['rating', 'stars']);

export interface ColumnOptions {
  /** Name of the text column; detected from TEXT_COLUMNS (case-insensitive) when absent. */
  textColumn?: string;
  /** Name of the label column; detected from LABEL_COLUMNS (case-insensitive) when absent. */
  labelColumn?: string;
  /**
   * Ratings >= this are positive. Setting it reads the label column as ratings whatever its name.
   * Default for a rating/stars column: 7 (IMDB, 1..10), or 4 when no rating exceeds 5 (1..5 stars).
   */
  ratingThreshold?: number;
}

export interface Columns {
  text: string;
  label: string;
}

function findColumn(columns: string[], wanted: string | undefined, candidates: readonly string[]): string | undefined {
  if (wanted !== undefined) return columns.find((c) => c === wanted) ?? columns.find((c) => c.toLowerCase() === wanted.toLowerCase());
  for (const cand of candidates) {
    const hit = columns.find((c) => c.toLowerCase() === cand);
    if (hit !== undefined) return hit;
  }
  return undefined;
}

/** The text and label columns of a table; a DataError naming the file and the columns it has when one is missing. */
export function detectColumns(table: ParsedTable, opts: ColumnOptions = {}): Columns {
  const have = table.columns.length > 0 ? table.columns.map((c) => `"${c}"`).join(', ') : 'none';
  const text = findColumn(table.columns, opts.textColumn, TEXT_COLUMNS);
  if (text === undefined) {
    const want = opts.textColumn !== undefined ? `"${opts.textColumn}"` : `one of ${TEXT_COLUMNS.join('|')}`;
    throw new DataError({ file: table.file, line: 1 }, `no text column (${want}); columns are ${have}; name it with the text column option`);
  }
  const label = findColumn(table.columns, opts.labelColumn, LABEL_COLUMNS);
  if (label === undefined) {
    const want = opts.labelColumn !== undefined ? `"${opts.labelColumn}"` : `one of ${LABEL_COLUMNS.join('|')}`;
    throw new DataError({ file: table.file, line: 1 }, `no label column (${want}); columns are ${have}; name it with the label column option`);
  }
  return { text, label };
}

/** A label cell made comparable: trimmed lower-case string or number; null when the cell is empty. */
function labelKey(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (s === '') return null;
    const n = Number(s);
    return Number.isFinite(n) && /^[-+]?[\d.]+(e[-+]?\d+)?$/.test(s) ? n : s;
  }
  return JSON.stringify(v);
}

const WORDS = new Map<string | number, 0 | 1>([
  [0, 0], ['false', 0], ['neg', 0], ['negative', 0],
  [1, 1], ['true', 1], ['pos', 1], ['positive', 1],
]);

export type LabelResult = { ok: true; label: 0 | 1 } | { ok: false; reason: string };

/**
 * Builds the cell -> class mapping for one table after looking at every label cell, so it can say which rows
 * bring a third class. Throws a DataError for more than two classes or labels it cannot map.
 */
export function labelMapper(table: ParsedTable, column: string, opts: ColumnOptions = {}): (row: TableRow) => LabelResult {
  const loc = (r: TableRow): { file: string; line?: number; row?: number; column: string } => ({
    file: table.file, column, ...(r.line !== undefined ? { line: r.line } : {}), ...(r.row !== undefined ? { row: r.row } : {}),
  });
  const rating = opts.ratingThreshold !== undefined || RATING_COLUMNS.has(column.toLowerCase());
  if (rating) {
    let threshold = opts.ratingThreshold;
    if (threshold === undefined) {
      let max = -Infinity;
      for (const r of table.rows) {
        const k = labelKey(r.values[column]);
        if (typeof k === 'number') max = Math.max(max, k);
      }
      threshold = max <= 5 ? 4 : 7;
    }
    const t = threshold;
    return (r) => {
      const k = labelKey(r.values[column]);
      if (k === null) return { ok: false, reason: 'empty rating' };
      if (typeof k !== 'number') return { ok: false, reason: `rating "${String(r.values[column])}" is not a number` };
      return { ok: true, label: k >= t ? 1 : 0 };
    };
  }
  // Classes in order of first appearance, with the row that first shows each.
  const seen = new Map<string | number, TableRow>();
  for (const r of table.rows) {
    const k = labelKey(r.values[column]);
    if (k !== null && !seen.has(k)) seen.set(k, r);
  }
  const canonical = new Map<string | number, TableRow>();
  for (const [k, r] of seen) {
    const c = WORDS.get(k) ?? k;
    if (!canonical.has(c)) canonical.set(c, r);
  }
  if (canonical.size > 2) {
    const [third, at] = [...canonical.entries()][2] ?? [];
    const names = [...canonical.keys()].slice(0, 6).map((c) => JSON.stringify(c)).join(', ');
    throw new DataError(at !== undefined ? loc(at) : { file: table.file, column },
      `label column has more than 2 classes (${names}${canonical.size > 6 ? ', ...' : ''}; ${JSON.stringify(third)} first appears here); TuneLab trains binary classifiers: map the labels to 0/1, or pass a rating threshold`);
  }
  for (const [k, r] of seen) {
    if (!WORDS.has(k)) {
      throw new DataError(loc(r), `label ${JSON.stringify(r.values[column])} is not recognised: use 0/1, true/false, pos/neg, positive/negative, or a rating column with a threshold`);
    }
  }
  return (r) => {
    const k = labelKey(r.values[column]);
    if (k === null) return { ok: false, reason: 'empty label' };
    const c = WORDS.get(k);
    return c === undefined ? { ok: false, reason: `label ${JSON.stringify(k)} not recognised` } : { ok: true, label: c };
  };
}
