// Spawning the real `tunelab` command in tests (SwiftShader WebGPU), with IMDB and a tiny random-init model.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));
export const IMDB = resolve(REPO, '../shared/data/imdb');
const BIN = join(REPO, 'bin/tunelab.mjs');

export function requireImdb(): string {
  if (!existsSync(join(IMDB, 'train.jsonl.gz')) || !existsSync(join(IMDB, 'test.jsonl.gz'))) {
    throw new Error(`IMDB is missing: expected ${IMDB}/train.jsonl.gz and test.jsonl.gz (../shared/data/imdb relative to the repository)`);
  }
  return IMDB;
}

/** `tunelab init-model` of the tiny shape the GPU tests use (dim 32, 1 layer, 2 heads, ffn 64). */
export function initTinyModel(out: string): void {
  const r = spawnSync(process.execPath, [BIN, 'init-model', '--arch', 'distilbert', '--dim', '32', '--layers', '1', '--heads', '2', '--ffn', '64', '--seed', '0', '--out', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`init-model failed (${r.status}): ${r.stderr}`);
}

export interface Spawned {
  child: ChildProcess;
  stderr(): string;
  stdout(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when stderr has a line matching `re`. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string>;
}

export function spawnTunelab(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, TUNELAB_SWIFTSHADER: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
    for (const w of [...waiters]) {
      const line = err.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  return {
    child, exited, stderr: () => err, stdout: () => out,
    waitFor: (re, timeoutMs) => new Promise<string>((res, rej) => {
      const line = err.split('\n').find((l) => re.test(l));
      if (line !== undefined) { res(line); return; }
      const timer = setTimeout(() => rej(new Error(`no stderr line matching ${re} within ${timeoutMs} ms:\n${err.slice(-3000)}`)), timeoutMs);
      waiters.push({ re, resolve: (l) => { clearTimeout(timer); res(l); } });
      void exited.then(() => { clearTimeout(timer); const l = err.split('\n').find((x) => re.test(x)); if (l !== undefined) res(l); else rej(new Error(`tunelab exited before a line matching ${re}:\n${err.slice(-3000)}`)); });
    }),
  };
}

/** Runs to the end; returns the parsed last stdout line. */
export async function runTunelab(args: string[]): Promise<{ json: unknown; stderr: string; code: number | null }> {
  const p = spawnTunelab(args);
  const { code } = await p.exited;
  const lines = p.stdout().trim().split('\n');
  const last = lines.at(-1) ?? '';
  let json: unknown;
  try {
    json = JSON.parse(last);
  } catch {
    throw new Error(`tunelab ${args[0] ?? ''} exited ${code} without a JSON line:\nstdout: ${p.stdout().slice(-2000)}\nstderr: ${p.stderr().slice(-4000)}`);
  }
  return { json, stderr: p.stderr(), code };
}
