// Errors and skipped-row records of the data path: every problem says what and where (file, line or row, column).

/** Where in the input a problem sits. `line` is 1-based for text files; `row` is 1-based for Parquet and tar members. */
export interface DataLocation {
  file: string;
  line?: number;
  row?: number;
  column?: string;
}

/** "train.csv:12", "data.parquet row 7", "x.jsonl:3 (column label)". */
export function formatLocation(loc: DataLocation): string {
  let s = loc.file;
  if (loc.line !== undefined) s += `:${loc.line}`;
  else if (loc.row !== undefined) s += ` row ${loc.row}`;
  if (loc.column !== undefined) s += ` (column ${loc.column})`;
  return s;
}

/** A problem that makes the dataset unusable: nothing trains until the user fixes the file. */
export class DataError extends Error {
  readonly file: string;
  readonly line: number | undefined;
  readonly row: number | undefined;
  readonly column: string | undefined;
  /** The problem without the location prefix. */
  readonly detail: string;

  constructor(loc: DataLocation, detail: string) {
    super(`${formatLocation(loc)}: ${detail}`);
    this.name = 'DataError';
    this.file = loc.file;
    this.line = loc.line;
    this.row = loc.row;
    this.column = loc.column;
    this.detail = detail;
  }
}

/** A row left out of the dataset (empty text, unparseable, repeated header, missing label). */
export interface SkippedRow extends DataLocation {
  reason: string;
}

/** Skipped rows: the total, and the first few with their location so the user can find them. */
export interface SkippedSummary {
  count: number;
  examples: SkippedRow[];
}
