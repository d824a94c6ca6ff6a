// What the user chose on the page, as one JSON value: stored with the study (IndexedDB, key "lab:current") so a
// reload rebuilds the same model, data and settings and resumes the same study. Defaults are the offline demo
// (public/demo): a trial takes well under a minute on a software GPU (SwiftShader) and seconds on a real one.
import { DEFAULT_SEARCH_SPACE_JSON, parseSearchSpace, SearchSpaceError, type SearchSpaceJSON } from '../search/space.ts';

export type ModelSourceChoice =
  | { kind: 'demo' }
  | { kind: 'hub'; id: string }
  /** A folder picked from disk; its files are kept in IndexedDB under this name so a reload finds them. */
  | { kind: 'folder'; name: string };

export type DataSourceChoice =
  | { kind: 'demo' }
  | { kind: 'hub'; id: string }
  /** Files picked or dropped; kept in IndexedDB under these names. */
  | { kind: 'files'; names: string[] };

export interface LabSettings {
  /** Tokens per review (sequence length). */
  seqLen: number;
  /** Rows of train / validation / test used (stratified subsets); null keeps all. */
  trainRows: number | null;
  valRows: number | null;
  testRows: number | null;
  evalsPerEpoch: number;
  seed: number;
  maxTrials: number;
  maxMinutes: number;
  workers: number;
  pruning: boolean;
}

export interface LabConfig {
  model: ModelSourceChoice;
  data: DataSourceChoice;
  /** The search space as the user typed it (JSON text). */
  spaceText: string;
  settings: LabSettings;
  mlflow: { url: string; token: string } | null;
}

export const DEMO_SETTINGS: LabSettings = {
  seqLen: 64, trainRows: 128, valRows: 64, testRows: 200, evalsPerEpoch: 2, seed: 0, maxTrials: 6, maxMinutes: 15, workers: 1, pruning: true,
};

export function defaultLabConfig(): LabConfig {
  return {
    model: { kind: 'demo' },
    data: { kind: 'demo' },
    spaceText: JSON.stringify(DEFAULT_SEARCH_SPACE_JSON, null, 2),
    settings: { ...DEMO_SETTINGS },
    mlflow: null,
  };
}

/** The search space text as JSON, or the problems in words (each names the parameter or the JSON position). */
export function readSpace(text: string): { ok: true; space: SearchSpaceJSON } | { ok: false; issues: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, issues: [`the search space is not valid JSON: ${e instanceof Error ? e.message : String(e)}`] };
  }
  try {
    parseSearchSpace(json, 'search space');
  } catch (e) {
    if (e instanceof SearchSpaceError) return { ok: false, issues: [...e.issues] };
    return { ok: false, issues: [e instanceof Error ? e.message : String(e)] };
  }
  return { ok: true, space: json as SearchSpaceJSON };
}

/** Problems with the settings, in words naming the field; empty when they are usable. */
export function checkSettings(s: LabSettings): string[] {
  const out: string[] = [];
  const int = (v: number, name: string, lo: number, hi: number): void => {
    if (!Number.isInteger(v) || v < lo || v > hi) out.push(`${name} must be a whole number from ${lo} to ${hi} (got ${String(v)})`);
  };
  int(s.seqLen, 'sequence length', 8, 512);
  int(s.evalsPerEpoch, 'evaluations per epoch', 1, 20);
  int(s.seed, 'seed', 0, 2 ** 31 - 1);
  int(s.maxTrials, 'trials', 1, 1000);
  int(s.workers, 'trainer workers', 1, 8);
  if (!(s.maxMinutes > 0 && s.maxMinutes <= 7 * 24 * 60)) out.push(`minutes must be a positive number up to a week (got ${String(s.maxMinutes)})`);
  for (const [name, v] of [['train rows', s.trainRows], ['validation rows', s.valRows], ['test rows', s.testRows]] as const) {
    if (v !== null && (!Number.isInteger(v) || v < 2)) out.push(`${name} must be empty (all) or a whole number of at least 2 (got ${String(v)})`);
  }
  return out;
}

/** A readable one-line name of a choice. */
export function describeModel(m: ModelSourceChoice): string {
  return m.kind === 'demo' ? 'demo model (tiny random DistilBERT)' : m.kind === 'hub' ? m.id : `folder ${m.name}`;
}

export function describeData(d: DataSourceChoice): string {
  return d.kind === 'demo' ? 'IMDB sample (600 train, 200 test reviews)' : d.kind === 'hub' ? `${d.id} (Hugging Face)` : d.names.join(', ');
}

/** Loose check of a stored config (older versions or hand edits): undefined when it is not usable. */
export function parseLabConfig(v: unknown): LabConfig | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const c = v as Partial<LabConfig>;
  if (typeof c.spaceText !== 'string' || typeof c.model !== 'object' || typeof c.data !== 'object' || typeof c.settings !== 'object') return undefined;
  const settings = { ...DEMO_SETTINGS, ...c.settings };
  if (checkSettings(settings).length > 0) return undefined;
  return { model: c.model, data: c.data, spaceText: c.spaceText, settings, mlflow: c.mlflow ?? null };
}
