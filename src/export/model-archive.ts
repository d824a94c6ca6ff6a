// Download helpers for a trained model: the Hugging Face folder (file name -> bytes, from exportModelFolder) as one
// tar archive under a folder name, so the page can offer a single download; `tar xf` gives a folder that
// transformers' from_pretrained and `tunelab --model` read. No I/O: the caller saves the bytes (Blob, file).
import { createTar } from 'nanotar';

/** A folder name safe on every file system (letters, digits, - _ .), never empty. */
export function safeFolderName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^[-.]+|-+$/g, '').slice(0, 100) || 'model';
}

/** The folder's files as an uncompressed tar (model.safetensors is float data: gzip gains little). Sorted by name. */
export function modelFolderTar(files: ReadonlyMap<string, Uint8Array>, folder: string): Uint8Array {
  const dir = safeFolderName(folder);
  const names = [...files.keys()].sort();
  return createTar(names.map((name) => ({ name: `${dir}/${name}`, data: files.get(name)! })), { attrs: { mode: '644', mtime: 0 } });
}
