// Node OutboxStore: a JSON-lines journal. Each append and each ack is one appended line written with a
// single synchronous write, so enqueue has persisted the operation when it returns (a process crash
// loses nothing enqueued; an OS crash may lose the last lines, as no fsync is done per event). A torn
// last line (crash mid-write) is ignored on load. The journal is compacted (rewritten to a temp file,
// then renamed over the original) on load and whenever acked lines dominate it.
//
// Lines: {"seq":N,"enqueuedAt":MS,"op":{...}}  |  {"ack":[N,...]}

import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { OutboxEntry, OutboxStore, TrackingOp } from '../tracking/outbox.ts';
import { TRACKING_OP_TYPES } from '../tracking/outbox.ts';

export interface FileOutboxOptions {
  /** Called for lines skipped on load (corrupt or unknown), with file and line number. */
  readonly onWarning?: (message: string) => void;
  /** Rewrite when at least this many acked entries sit in the file and they outnumber the pending ones (default 500). */
  readonly compactAfter?: number;
}

function isOp(v: unknown): v is TrackingOp {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  return (
    typeof o['type'] === 'string' &&
    (TRACKING_OP_TYPES as readonly string[]).includes(o['type']) &&
    typeof o['studyId'] === 'string' &&
    typeof o['experimentName'] === 'string'
  );
}

export class FileOutboxStore implements OutboxStore {
  private pending = new Map<number, OutboxEntry>();
  private ackedInFile = 0;
  private readonly compactAfter: number;

  constructor(
    readonly path: string,
    private readonly options: FileOutboxOptions = {},
  ) {
    this.compactAfter = options.compactAfter ?? 500;
  }

  load(): OutboxEntry[] {
    this.pending.clear();
    if (existsSync(this.path)) {
      const lines = readFileSync(this.path, 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (line.trim() === '') return;
        const where = `${this.path}:${i + 1}`;
        let rec: unknown;
        try {
          rec = JSON.parse(line);
        } catch {
          // The last line may be torn by a crash mid-write; anything else is corruption worth reporting.
          this.options.onWarning?.(`${where}: skipped a line that is not JSON${i >= lines.length - 2 ? ' (torn last write)' : ''}`);
          return;
        }
        const r = rec as { seq?: unknown; enqueuedAt?: unknown; op?: unknown; ack?: unknown };
        if (Array.isArray(r.ack)) {
          for (const s of r.ack) if (typeof s === 'number') this.pending.delete(s);
        } else if (typeof r.seq === 'number' && Number.isInteger(r.seq) && isOp(r.op)) {
          this.pending.set(r.seq, { seq: r.seq, enqueuedAt: typeof r.enqueuedAt === 'number' ? r.enqueuedAt : 0, op: r.op });
        } else {
          this.options.onWarning?.(`${where}: skipped a line that is neither an operation (seq, op.type, op.studyId) nor an ack`);
        }
      });
    }
    this.rewrite();
    return [...this.pending.values()].sort((a, b) => a.seq - b.seq);
  }

  append(entry: OutboxEntry): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`);
    this.pending.set(entry.seq, entry);
  }

  ack(seqs: readonly number[]): void {
    for (const s of seqs) this.pending.delete(s);
    this.ackedInFile += seqs.length;
    if (this.pending.size === 0 || (this.ackedInFile >= this.compactAfter && this.ackedInFile > this.pending.size)) this.rewrite();
    else appendFileSync(this.path, `${JSON.stringify({ ack: seqs })}\n`);
  }

  /** Number of operations not yet acknowledged. */
  get size(): number {
    return this.pending.size;
  }

  private rewrite(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    const body = [...this.pending.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((e) => `${JSON.stringify(e)}\n`)
      .join('');
    writeFileSync(tmp, body);
    renameSync(tmp, this.path);
    this.ackedInFile = 0;
  }
}

/** The store for `tunelab tune --mlflow`: one journal per study, e.g. `<study dir>/mlflow-outbox.jsonl`. */
export function createFileOutboxStore(path: string, options: FileOutboxOptions = {}): FileOutboxStore {
  return new FileOutboxStore(path, options);
}

/** resolveArtifact for Node: artifact references are file paths. */
export async function readArtifactFile(ref: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(ref));
}
