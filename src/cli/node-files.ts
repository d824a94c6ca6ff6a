// Node implementations of the data path's storage interfaces: DataFileSystem over the local disk, and
// ShardStore as a cache folder (default ~/.cache/tunelab/shards) with write-to-temp-then-rename entries.
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { DataFileSystem } from '../data/files.ts';
import type { TokenizerFiles } from '../data/tokenize.ts';
import type { ShardEntry, ShardStore } from '../data/shards.ts';

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Local files; relative paths resolve against `root` (default: the working directory). */
export class NodeDataFileSystem implements DataFileSystem {
  constructor(private readonly root: string = process.cwd()) {}

  async list(path: string): Promise<string[] | null> {
    try {
      const full = resolve(this.root, path);
      if (!(await stat(full)).isDirectory()) return null;
      return (await readdir(full)).sort();
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }

  async read(path: string): Promise<Uint8Array | null> {
    try {
      const buf = await readFile(resolve(this.root, path));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
  }
}

/** The shard cache folder: the argument, else $TUNELAB_CACHE_DIR, else ~/.cache/tunelab/shards. */
export function shardCacheDir(arg?: string, env: Record<string, string | undefined> = process.env): string {
  if (arg !== undefined && arg !== '') return resolve(arg);
  const fromEnv = env.TUNELAB_CACHE_DIR;
  if (fromEnv !== undefined && fromEnv !== '') return resolve(fromEnv);
  return join(homedir(), '.cache', 'tunelab', 'shards');
}

const MANIFEST = 'manifest.json';
const KEY = /^[0-9a-f]{16,128}$/;

/**
 * One folder per key: manifest.json + <blob>.bin. put() writes a temporary folder and renames it into place,
 * so a crash leaves either the old entry or a stray temporary folder, never a half-written entry under the key.
 */
export class NodeShardStore implements ShardStore {
  constructor(readonly dir: string) {}

  private path(key: string): string {
    if (!KEY.test(key)) throw new Error(`shard key must be lower-case hex, got "${key}"`);
    return join(this.dir, key);
  }

  async get(key: string): Promise<ShardEntry | null> {
    const dir = this.path(key);
    let names: string[];
    let manifest: string;
    try {
      names = await readdir(dir);
      manifest = await readFile(join(dir, MANIFEST), 'utf8');
    } catch (e) {
      if (isNotFound(e)) return null;
      throw e;
    }
    const blobs: Record<string, Uint8Array> = {};
    for (const name of names) {
      if (!name.endsWith('.bin')) continue;
      const buf = await readFile(join(dir, name));
      blobs[name.slice(0, -4)] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return { manifest, blobs };
  }

  async put(key: string, entry: ShardEntry): Promise<void> {
    const dir = this.path(key);
    await mkdir(this.dir, { recursive: true });
    const tmp = join(this.dir, `.${key}.tmp-${process.pid}-${Date.now()}`);
    await mkdir(tmp);
    try {
      for (const [name, bytes] of Object.entries(entry.blobs)) await writeFile(join(tmp, `${name}.bin`), bytes);
      await writeFile(join(tmp, MANIFEST), entry.manifest);
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { recursive: true, force: true });
  }
}

/** tokenizer.json (required) and tokenizer_config.json (optional) of a model folder. */
export async function readTokenizerFiles(modelDir: string): Promise<TokenizerFiles> {
  let tokenizerJson: string;
  try {
    tokenizerJson = await readFile(join(modelDir, 'tokenizer.json'), 'utf8');
  } catch (e) {
    if (isNotFound(e)) throw new Error(`${join(modelDir, 'tokenizer.json')}: not found (the model folder needs its tokenizer.json)`);
    throw e;
  }
  try {
    return { tokenizerJson, tokenizerConfigJson: await readFile(join(modelDir, 'tokenizer_config.json'), 'utf8') };
  } catch (e) {
    if (isNotFound(e)) return { tokenizerJson };
    throw e;
  }
}
