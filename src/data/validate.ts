// Validation of one parsed file before anything trains. Policy: rows that can be skipped (empty text,
// unparseable row, repeated header, empty label) are skipped, counted and listed; problems that make the
// data unusable (no text/label column, one class, > 2 classes, no usable rows, too many skipped rows) throw.
import { DataError, formatLocation, type SkippedRow } from './errors.ts';
import type { ParsedTable, TableRow } from './formats.ts';
import { detectColumns, labelMapper, type ColumnOptions } from './labels.ts';
import type { LabelledTexts } from './types.ts';

export interface ValidateOptions extends ColumnOptions {
  /** Above this fraction of skipped rows in one file the file is rejected. Default 0.1. */
  maxSkippedFraction?: number;
  /** Train data must hold both classes; a test file may not (default true). */
  requireBothClasses?: boolean;
}

export interface ValidatedFile {
  data: LabelledTexts;
  /** All skipped rows of the file, in file order. */
  skipped: SkippedRow[];
  /** Rows seen in the file (usable + skipped). */
  rowsSeen: number;
}

export const DEFAULT_MAX_SKIPPED_FRACTION = 0.1;

function where(file: string, r: TableRow): { file: string; line?: number; row?: number } {
  return { file, ...(r.line !== undefined ? { line: r.line } : {}), ...(r.row !== undefined ? { row: r.row } : {}) };
}

export function validateTable(table: ParsedTable, opts: ValidateOptions = {}): ValidatedFile {
  const { file } = table;
  if (table.rows.length === 0 && table.skipped.length === 0) throw new DataError({ file }, 'no data rows');
  const cols = detectColumns(table, opts);
  const toLabel = labelMapper(table, cols.label, opts);
  const texts: string[] = [];
  const labels: number[] = [];
  const skipped: SkippedRow[] = [...table.skipped];
  for (const r of table.rows) {
    const t = r.values[cols.text];
    if (t !== null && t !== undefined && typeof t === 'object') {
      skipped.push({ ...where(file, r), column: cols.text, reason: 'text is not a string' });
      continue;
    }
    const text = typeof t === 'string' ? t : typeof t === 'number' || typeof t === 'bigint' ? String(t) : '';
    if (text.trim() === '') {
      skipped.push({ ...where(file, r), column: cols.text, reason: 'empty text' });
      continue;
    }
    const l = toLabel(r);
    if (!l.ok) {
      skipped.push({ ...where(file, r), column: cols.label, reason: l.reason });
      continue;
    }
    texts.push(text);
    labels.push(l.label);
  }
  skipped.sort((a, b) => (a.line ?? a.row ?? 0) - (b.line ?? b.row ?? 0));
  const rowsSeen = texts.length + skipped.length;
  const first = skipped[0];
  if (texts.length === 0) {
    throw new DataError(first ?? { file }, `no usable rows (${skipped.length} skipped${first ? `; first: ${first.reason}` : ''})`);
  }
  const maxFraction = opts.maxSkippedFraction ?? DEFAULT_MAX_SKIPPED_FRACTION;
  if (first !== undefined && skipped.length / rowsSeen > maxFraction) {
    const pct = ((100 * skipped.length) / rowsSeen).toFixed(1);
    throw new DataError(first, `${skipped.length} of ${rowsSeen} rows (${pct}%) cannot be used, more than the ${
      (100 * maxFraction).toFixed(0)}% allowed; first: ${first.reason}${skipped[1] ? `; next: ${formatLocation(skipped[1])}: ${skipped[1].reason}` : ''}`);
  }
  const labelArray = Uint8Array.from(labels);
  if (opts.requireBothClasses ?? true) {
    const ones = labels.reduce((s, v) => s + v, 0);
    if (ones === 0 || ones === labels.length) {
      throw new DataError({ file, column: cols.label },
        `only one class: all ${labels.length} usable rows are ${ones === 0 ? 'negative (0)' : 'positive (1)'}; a classifier needs both classes`);
    }
  }
  return { data: { texts, labels: labelArray }, skipped, rowsSeen };
}
