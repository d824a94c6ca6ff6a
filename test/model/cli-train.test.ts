// `tunelab train --lr 10` ends quickly as a result, not a crash: exit 0, status failed, failure_reason diverged, and the
// JSON carries the memory/precision fields. Runs the real command (node bin/tunelab.mjs) on an init-model folder.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/engine/random.ts';

const ROOT = join(import.meta.dirname, '../..');
const WORDS = ['great', 'awful', 'movie', 'plot', 'actor', 'boring', 'loved', 'hated', 'film', 'scene', 'music', 'slow'];

function tunelab(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tunelab.mjs'), ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 240_000, env: { ...process.env, TUNELAB_SWIFTSHADER: '1' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('tunelab train', () => {
  it('--lr 10 ends with exit 0, status failed, failure_reason diverged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tunelab-train-'));
    const model = join(dir, 'model');
    const init = tunelab(['init-model', '--arch', 'distilbert', '--dim', '32', '--layers', '1', '--heads', '2', '--ffn', '64', '--max-positions', '64', '--seed', '0', '--out', model]);
    expect(init.status, init.stderr).toBe(0);
    const rng = new Rng(3);
    const lines = Array.from({ length: 240 }, (_, i) => {
      const words = Array.from({ length: 4 + Math.floor(rng.next() * 10) }, () => WORDS[Math.floor(rng.next() * WORDS.length)]!);
      return JSON.stringify({ text: words.join(' '), label: i % 2 });
    });
    const data = join(dir, 'reviews.jsonl');
    writeFileSync(data, `${lines.join('\n')}\n`);
    const t0 = performance.now();
    const r = tunelab(['train', '--model', model, '--data', data, '--lr', '10', '--warmup-ratio', '0', '--batch', '8', '--max-len', '32', '--cache-dir', join(dir, 'cache'), '--json']);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`tunelab train --lr 10: exit ${r.status} in ${seconds.toFixed(1)} s\n${r.stderr.split('\n').slice(-6).join('\n')}\n${r.stdout}`);
    expect(r.status, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(json.status).toBe('failed');
    expect(json.failure_reason).toBe('diverged');
    expect(json.steps as number).toBeLessThan(15);
    for (const key of ['micro_batch', 'accumulation_steps', 'precision', 'loss_scale', 'peak_gpu_bytes', 'failure_reason']) expect(json).toHaveProperty(key);
    expect(json).toMatchObject({ micro_batch: 8, accumulation_steps: 1, precision: 'fp32', loss_scale: 1 });
    expect(json.peak_gpu_bytes as number).toBeGreaterThan(0);
  });
});
