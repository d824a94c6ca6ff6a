// File access for the data path behind one small interface, so the same code reads a Node folder
// (src/cli/node-files.ts) or the File objects a user picked in the browser (MemoryFileSystem below).

/** Read-only file access. Paths use '/' separators; '' or '.' is the root the user picked. */
export interface DataFileSystem {
  /** Names (not paths) of the entries directly inside a folder, or null when `path` is not a folder. */
  list(path: string): Promise<string[] | null>;
  /** The whole file, or null when there is no file at `path`. */
  read(path: string): Promise<Uint8Array | null>;
}

/** Joins path parts with '/', dropping empty parts and '.' roots. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '' && p !== '.').join('/').replace(/\/{2,}/g, '/');
}

export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i < 0 ? trimmed : trimmed.slice(i + 1);
}

/**
 * Files held in memory or as Blobs (browser File objects from <input type=file> or drag-and-drop; a folder pick
 * gives `webkitRelativePath` names like "imdb/train.jsonl.gz"). Folders are implied by the paths.
 */
export class MemoryFileSystem implements DataFileSystem {
  private readonly files = new Map<string, Uint8Array | Blob>();

  constructor(entries: Iterable<[string, Uint8Array | Blob]> = []) {
    for (const [path, data] of entries) this.files.set(normalise(path), data);
  }

  /** From browser File objects, keyed by their relative path when a folder was picked, else by name. */
  static fromFiles(files: Iterable<File>): MemoryFileSystem {
    const entries: [string, Blob][] = [];
    for (const f of files) entries.push([f.webkitRelativePath !== '' ? f.webkitRelativePath : f.name, f]);
    return new MemoryFileSystem(entries);
  }

  set(path: string, data: Uint8Array | Blob): void {
    this.files.set(normalise(path), data);
  }

  list(path: string): Promise<string[] | null> {
    const dir = normalise(path);
    const prefix = dir === '' ? '' : `${dir}/`;
    const names = new Set<string>();
    for (const p of this.files.keys()) {
      if (p.startsWith(prefix)) names.add(p.slice(prefix.length).split('/')[0] ?? '');
    }
    names.delete('');
    return Promise.resolve(names.size > 0 || dir === '' ? [...names].sort() : null);
  }

  async read(path: string): Promise<Uint8Array | null> {
    const data = this.files.get(normalise(path));
    if (data === undefined) return null;
    return data instanceof Uint8Array ? data : new Uint8Array(await data.arrayBuffer());
  }
}

function normalise(path: string): string {
  return path.replace(/\\/g, '/').replace(/^\.\/+/, '').replace(/^\/+|\/+$/g, '').replace(/\/{2,}/g, '/');
}
