// Crash and resume: the real `tunelab tune` is killed with SIGKILL in the middle of a trial, started again with
// --resume, and must finish the study without losing or repeating a finished trial.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStudyState } from '../../src/search/study.ts';
import type { TuneJson } from '../../src/cli/commands/tune.ts';
import { initTinyModel, requireImdb, runTunelab, spawnTunelab } from './tune-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('tunelab tune: crash and resume', () => {
  it('SIGKILL mid-trial, then --resume: every trial once, finished ones unchanged, total = N', async () => {
    const imdb = requireImdb();
    const model = join(dir, 'model');
    initTinyModel(model);
    const space = join(dir, 'space.json');
    writeFileSync(space, JSON.stringify({ learning_rate: { type: 'loguniform', low: 1e-4, high: 1e-2 }, batch_size: 8, weight_decay: { type: 'loguniform', low: 1e-6, high: 1e-2 } }));
    const studyDir = join(dir, 'study');
    const args = ['tune', '--model', model, '--data', imdb, '--trials', '2', '--space', space, '--train-limit', '16', '--val-limit', '8', '--test-limit', '8',
      '--max-len', '32', '--evals-per-epoch', '2', '--study-dir', studyDir, '--cache-dir', join(dir, 'cache'), '--json'];

    const first = spawnTunelab(args);
    await first.waitFor(/^tune: trial 0 complete/, 240_000);
    await first.waitFor(/^tune: trial 1 step 1\//, 240_000);
    first.child.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    expect(first.stdout()).toBe('');
    const atKill = parseStudyState(JSON.parse(readFileSync(join(studyDir, 'study.json'), 'utf8')));
    expect(atKill.trials.map((t) => t.state)).toEqual(['complete', 'running']);

    // A new study in a folder that has one is refused without --resume.
    const refused = await runTunelab(args).catch((e: Error) => ({ error: e.message }));
    expect('error' in refused ? refused.error : '').toMatch(/already stored here/);

    const { json, stderr, code } = await runTunelab([...args, '--resume']);
    expect(code, stderr).toBe(0);
    const out = json as TuneJson;
    expect(out.resumed).toBe(true);
    expect(out.trials.map((t) => t.number)).toEqual([0, 1]);
    expect(out.trials.every((t) => t.status === 'complete')).toBe(true);
    // trial 0 finished before the kill: not re-run, unchanged
    expect(stderr).not.toMatch(/trial 0 started/);
    const t0 = atKill.trials[0]!;
    expect(out.trials[0]).toMatchObject({ number: 0, params: t0.params, value: t0.value, attempts: 1, steps: 2 });
    // trial 1 was running: re-run with the same parameters, as attempt 2
    expect(stderr).toMatch(/trial 1 started \(attempt 2\)/);
    expect(out.trials[1]).toMatchObject({ params: atKill.trials[1]!.params, attempts: 2, steps: 2 });
    expect(out.final_model?.test_rows).toBe(8);
    expect(out.test_accuracy).toBeGreaterThanOrEqual(0);
  });
});
