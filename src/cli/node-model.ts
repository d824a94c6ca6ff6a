// Model folders on disk for the CLI: read every file the engine uses, write a folder atomically (temp dir + rename),
// and the standard uncased WordPiece tokenizer files that ship in public/ for random-init models.
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TOKENIZER_FILES, type ModelFolderFiles } from '../engine/model/folder.ts';

const WANTED = new Set<string>(['config.json', 'model.safetensors', ...TOKENIZER_FILES]);

export async function readModelFolder(dir: string): Promise<ModelFolderFiles> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new Error(`${dir}: not a readable folder (--model takes a Hugging Face model folder: config.json, model.safetensors, tokenizer.json)`);
  }
  const files = new Map<string, Uint8Array>();
  for (const name of names.filter((n) => WANTED.has(n))) files.set(name, new Uint8Array(await readFile(join(dir, name))));
  return { files, source: dir };
}

export async function writeModelFolder(dir: string, files: Map<string, Uint8Array>): Promise<void> {
  const target = resolve(dir);
  const tmp = `${target}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(tmp, name), bytes);
  await mkdir(dirname(target), { recursive: true });
  await rm(target, { recursive: true, force: true });
  await rename(tmp, target);
}

/** public/tokenizer/bert-base-uncased: the uncased WordPiece vocabulary of DistilBERT and BERT base. */
export async function standardTokenizerFiles(): Promise<Map<string, Uint8Array>> {
  const dir = fileURLToPath(new URL('../../public/tokenizer/bert-base-uncased/', import.meta.url));
  const out = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) out.set(name, new Uint8Array(await readFile(join(dir, name))));
  return out;
}
