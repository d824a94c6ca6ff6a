// Node StudyStore: one JSON file per study, replaced atomically (write a temp file in the same folder, fsync it,
// rename over the target, fsync the folder). A crash leaves either the old or the new file; a leftover temp file
// (`<name>.<pid>.<n>.tmp`) is never read.

import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseStudyState, type StudyState, type StudyStore } from '../search/study.ts';

export class FileStudyStore implements StudyStore {
  readonly path: string;
  private counter = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(path: string) {
    this.path = path;
  }

  /** The saved state, or undefined when there is no file yet. Throws (naming the file) on bad JSON or a bad state. */
  async load(): Promise<StudyState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new Error(`${this.path}: not valid JSON (${(e as Error).message})`);
    }
    try {
      return parseStudyState(json);
    } catch (e) {
      throw new Error(`${this.path}: ${(e as Error).message}`);
    }
  }

  /** Saves are serialised: the last call's state is what ends up in the file. */
  save(state: StudyState): Promise<void> {
    const text = JSON.stringify(state, null, 1);
    const next = this.chain.then(() => this.write(text));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async write(text: string): Promise<void> {
    const dir = dirname(this.path);
    await mkdir(dir, { recursive: true });
    const tmp = join(dir, `${basename(this.path)}.${process.pid}.${this.counter++}.tmp`);
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await rename(tmp, this.path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    // make the rename itself durable (not supported on every platform: ignore failures there)
    try {
      const dh = await open(dir, 'r');
      try {
        await dh.sync();
      } finally {
        await dh.close();
      }
    } catch {
      // directories cannot be opened/fsynced on Windows
    }
  }
}
