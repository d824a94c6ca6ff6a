// Model folders and dataset files for a study, from the demo assets (public/demo, served with the page and cached by
// the service worker), the Hugging Face Hub (fetch, kept in IndexedDB by URL so a second use works offline), or files
// the user picked (kept in IndexedDB under "local:" keys so a reload can resume the study). Errors say what is wrong
// and with which file, in words the page shows as they are.
import type { HubFileCache } from '../data/hub.ts';
import type { DataSourceChoice, ModelSourceChoice } from './lab-config.ts';

export const HUB_URL = 'https://huggingface.co';
/** Files of a model folder we read; config.json and model.safetensors are required. */
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'] as const;
const REQUIRED = new Set(['config.json', 'model.safetensors']);
const DEMO_DATA_FILES = ['train.jsonl.gz', 'test.jsonl.gz'];

export class SourceError extends Error {
  override name = 'SourceError';
}

export type Progress = (text: string) => void;

async function fetchBytes(url: string, what: string, init?: RequestInit): Promise<Uint8Array | null> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new SourceError(`${what}: could not download ${url} (${e instanceof Error ? e.message : String(e)}); are you offline? The demo model and data work without a network.`);
  }
  if (res.status === 404) return null;
  if (res.status === 401 || res.status === 403) throw new SourceError(`${what}: ${url} answered ${res.status}: the repository is private or gated (accept its terms on huggingface.co)`);
  if (!res.ok) throw new SourceError(`${what}: ${url} answered ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

/** Model folder bytes by file name. `source` names it in errors. */
export async function loadModelFiles(choice: ModelSourceChoice, cache: HubFileCache, picked: readonly File[] | null, progress: Progress): Promise<{ files: Map<string, Uint8Array>; source: string }> {
  const files = new Map<string, Uint8Array>();
  if (choice.kind === 'demo') {
    for (const name of MODEL_FILES) {
      progress(`reading the demo model: ${name}`);
      const bytes = await fetchBytes(new URL(`demo/model/${name}`, document.baseURI).href, 'demo model');
      if (bytes) files.set(name, bytes);
    }
    return checkFolder(files, 'demo model');
  }
  if (choice.kind === 'hub') {
    const id = choice.id.trim();
    if (!/^[\w.-]+(\/[\w.-]+)?$/.test(id)) throw new SourceError(`model "${choice.id}": a Hub id looks like distilbert-base-uncased or owner/name`);
    for (const name of MODEL_FILES) {
      const url = `${HUB_URL}/${id}/resolve/main/${name}`;
      let bytes = await cache.get(url);
      if (bytes === null) {
        progress(`downloading ${id}/${name}`);
        bytes = await fetchBytes(url, `model ${id}`);
        if (bytes === null && REQUIRED.has(name)) throw new SourceError(`model ${id}: ${name} was not found on the Hub (is the id right, and does it have safetensors weights?)`);
        if (bytes !== null) await cache.put(url, bytes);
      }
      if (bytes !== null) files.set(name, bytes);
    }
    return checkFolder(files, id);
  }
  const key = (name: string): string => `local:model/${choice.name}/${name}`;
  if (picked !== null) {
    for (const f of picked) {
      const name = f.name;
      if (!(MODEL_FILES as readonly string[]).includes(name)) continue;
      files.set(name, new Uint8Array(await f.arrayBuffer()));
    }
    checkFolder(files, `folder ${choice.name}`);
    for (const [name, bytes] of files) await cache.put(key(name), bytes);
    return { files, source: `folder ${choice.name}` };
  }
  for (const name of MODEL_FILES) {
    const bytes = await cache.get(key(name));
    if (bytes !== null) files.set(name, bytes);
  }
  if (files.size === 0) throw new SourceError(`folder ${choice.name}: its files are no longer in this browser's storage; pick the folder again`);
  return checkFolder(files, `folder ${choice.name}`);
}

function checkFolder(files: Map<string, Uint8Array>, source: string): { files: Map<string, Uint8Array>; source: string } {
  const missing = [...REQUIRED].filter((n) => !files.has(n));
  if (missing.length > 0) {
    const has = files.size > 0 ? `it holds ${[...files.keys()].join(', ')}` : 'it holds none of the model files';
    throw new SourceError(`${source}: ${missing.join(' and ')} missing. A model folder holds config.json, model.safetensors and tokenizer.json; ${has}.`);
  }
  if (!files.has('tokenizer.json')) throw new SourceError(`${source}: tokenizer.json is missing (TuneLab tokenizes with the model's tokenizer.json)`);
  return { files, source };
}

/** The model's tokenizer as the data worker wants it. */
export function tokenizerOf(files: Map<string, Uint8Array>): { tokenizerJson: string; tokenizerConfigJson?: string } {
  const dec = new TextDecoder();
  const json = files.get('tokenizer.json');
  if (!json) throw new SourceError('the model folder has no tokenizer.json');
  const cfg = files.get('tokenizer_config.json');
  return { tokenizerJson: dec.decode(json), ...(cfg ? { tokenizerConfigJson: dec.decode(cfg) } : {}) };
}

/** What the data worker prepares: files (demo, picked, or restored from storage) or a Hub dataset id. */
export type DataRequestSource = { kind: 'files'; files: File[] } | { kind: 'hub'; dataset: string };

export async function dataSource(choice: DataSourceChoice, cache: HubFileCache, picked: readonly File[] | null, progress: Progress): Promise<DataRequestSource> {
  if (choice.kind === 'demo') {
    const files: File[] = [];
    for (const name of DEMO_DATA_FILES) {
      progress(`reading the IMDB sample: ${name}`);
      const bytes = await fetchBytes(new URL(`demo/imdb-sample/${name}`, document.baseURI).href, 'IMDB sample');
      if (bytes === null) throw new SourceError(`IMDB sample: demo/imdb-sample/${name} is missing from this site`);
      files.push(new File([bytes as Uint8Array<ArrayBuffer>], name));
    }
    return { kind: 'files', files };
  }
  if (choice.kind === 'hub') {
    const id = choice.id.trim();
    if (!/^[\w.-]+\/[\w.-]+$/.test(id)) throw new SourceError(`dataset "${choice.id}": a Hub dataset id looks like stanfordnlp/imdb`);
    return { kind: 'hub', dataset: id };
  }
  const key = (name: string): string => `local:data/${name}`;
  if (picked !== null) {
    if (picked.length === 0) throw new SourceError('no dataset file was chosen');
    for (const f of picked) await cache.put(key(f.name), new Uint8Array(await f.arrayBuffer()));
    return { kind: 'files', files: [...picked] };
  }
  const files: File[] = [];
  for (const name of choice.names) {
    const bytes = await cache.get(key(name));
    if (bytes === null) throw new SourceError(`dataset file ${name} is no longer in this browser's storage; choose it again`);
    files.push(new File([bytes as Uint8Array<ArrayBuffer>], name));
  }
  return { kind: 'files', files };
}
