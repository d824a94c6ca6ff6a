// A full small study on IMDB through the real `tunelab tune` (random-init tiny model, SwiftShader WebGPU), streamed
// to a real MLflow server: three trials with TPE (two start-up trials, then the model), one enqueued configuration
// that diverges and is recorded as failed while the study goes on; the final model is saved and loads; the report
// files hold every section; MLflow holds the parent run, a child per trial, parameters, metric histories,
// statuses, the failure reason and the artifacts.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TuneJson } from '../../src/cli/commands/tune.ts';
import { readModelFolder } from '../../src/cli/node-model.ts';
import { loadModelFolder } from '../../src/engine/model/folder.ts';
import { MlflowClient, type Run } from '../../src/tracking/mlflow-client.ts';
import { startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.ts';
import { initTinyModel, requireImdb, runTunelab } from './tune-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-study-'));
let server: MlflowServer;
let run: Promise<{ json: unknown; stderr: string; code: number | null }>;
const studyDir = join(dir, 'study');

beforeAll(async () => {
  const imdb = requireImdb();
  const model = join(dir, 'model');
  initTinyModel(model);
  const space = join(dir, 'space.json');
  // learning rates up to 1 so that TPE may also wander into divergence; the enqueued lr = 1 diverges for sure
  writeFileSync(space, JSON.stringify({ learning_rate: { type: 'loguniform', low: 1e-4, high: 1 }, batch_size: 8, weight_decay: { type: 'loguniform', low: 1e-6, high: 1e-2 }, warmup_ratio: 0 }));
  const enqueue = join(dir, 'enqueue.json');
  writeFileSync(enqueue, JSON.stringify([{ learning_rate: 1, weight_decay: 1e-3 }]));
  server = await startMlflowServer();
  run = runTunelab(['tune', '--model', model, '--data', imdb, '--trials', '3', '--space', space, '--enqueue', enqueue, '--sampler', 'tpe', '--startup-trials', '2',
    '--train-limit', '16', '--val-limit', '8', '--test-limit', '8', '--max-len', '32', '--evals-per-epoch', '1', '--study-dir', studyDir, '--study-name', 'tune-ci <study>',
    '--cache-dir', join(dir, 'cache'), '--mlflow', server.url, '--json']);
  await run;
});

afterAll(async () => {
  await server?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function tagsOf(r: Run): Record<string, string> {
  return Object.fromEntries((r.data.tags ?? []).map((t) => [t.key, t.value]));
}
function paramsOf(r: Run): Record<string, string> {
  return Object.fromEntries((r.data.params ?? []).map((t) => [t.key, t.value]));
}

describe('tunelab tune: a small TPE study on IMDB', () => {
  it('runs every trial, records the diverged one as failed, saves a loadable final model and the report', async () => {
    const { json, stderr, code } = await run;
    expect(code, stderr).toBe(0);
    const out = json as TuneJson;
    expect(out.trials.map((t) => t.number)).toEqual([0, 1, 2]);
    expect(out.trials[0]).toMatchObject({ status: 'failed', reason: 'diverged', value: null, params: { learning_rate: 1 } });
    expect(out.trials[0]!.message).toMatch(/loss|non-finite/);
    const finished = out.trials.filter((t) => t.status === 'complete');
    expect(finished.length).toBeGreaterThanOrEqual(1);
    for (const t of out.trials) {
      expect(t.steps).toBe(2);
      if (t.status === 'complete') expect(t.value).toBeGreaterThanOrEqual(0);
    }
    expect(out.best).not.toBeNull();
    expect(out.trials.find((t) => t.number === out.best!.number)?.status).toBe('complete');
    expect(out.final_model).toMatchObject({ mode: 'kept', trial: out.best!.number, test_rows: 8 });
    expect(out.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(out.test_accuracy).toBeLessThanOrEqual(1);

    // the final model is a Hugging Face folder the engine loads again (every tensor present: nothing initialised)
    const loaded = loadModelFolder(await readModelFolder(out.final_model!.path!), 0);
    expect(loaded.initialized).toEqual([]);
    expect(loaded.config).toMatchObject({ hidden: 32, layers: 1, heads: 2, ffn: 64 });
    expect(existsSync(join(out.final_model!.path!, 'tokenizer.json'))).toBe(true);

    const report = JSON.parse(readFileSync(out.report!.json, 'utf8')) as { trials: unknown[]; best: { number: number }; final: { testAccuracy: number } };
    expect(report.trials).toHaveLength(3);
    expect(report.best.number).toBe(out.best!.number);
    const html = readFileSync(out.report!.html, 'utf8');
    for (const id of ['summary', 'warnings', 'history', 'parameters', 'parallel', 'curves', 'trials']) expect(html).toContain(`<section id="${id}">`);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('tune-ci &lt;study&gt;');
    expect(html).not.toContain('tune-ci <study>');
  });

  it('streams the study to MLflow: parent and children, params, metric histories, statuses, failure reason, artifacts', async () => {
    const out = (await run).json as TuneJson;
    expect(out.mlflow).toMatchObject({ pending: 0, dropped: 0 });
    const client = new MlflowClient({ baseUrl: server.url });
    const exp = await client.getExperimentByName('tune-ci <study>');
    expect(exp).not.toBeNull();
    const all = await client.searchAllRuns({ experimentIds: [exp!.experiment_id], filter: `tags.\`tunelab.study_id\` = '${out.mlflow!.study_id}'`, runViewType: 'ALL' });
    const parents = all.filter((r) => tagsOf(r)['tunelab.kind'] === 'study');
    const children = all.filter((r) => tagsOf(r)['tunelab.kind'] === 'trial');
    expect(parents).toHaveLength(1);
    expect(children).toHaveLength(3);
    const parent = parents[0]!;
    expect(parent.info.status).toBe('FINISHED');
    expect(paramsOf(parent)['max_len']).toBe('32');
    for (const c of children) expect(tagsOf(c)['mlflow.parentRunId']).toBe(parent.info.run_id);
    const byNumber = new Map(children.map((c) => [Number(tagsOf(c)['tunelab.trial_number']), c]));
    const failed = byNumber.get(0)!;
    expect(failed.info.status).toBe('FAILED');
    expect(tagsOf(failed)['tunelab.failure_reason']).toBe('diverged');
    expect(paramsOf(failed)['learning_rate']).toBe('1');
    for (const t of out.trials) {
      const c = byNumber.get(t.number)!;
      expect(c.info.status).toBe(t.status === 'complete' ? 'FINISHED' : t.status === 'failed' ? 'FAILED' : 'KILLED');
      expect(Number(paramsOf(c)['learning_rate'])).toBeCloseTo(t.params.learning_rate as number, 10);
      const loss = await client.getMetricHistory(c.info.run_id, 'train_loss');
      expect(loss.map((m) => m.step).sort()).toEqual([1, 2]);
      expect((await client.getMetricHistory(c.info.run_id, 'samples_per_second')).length).toBeGreaterThan(0);
      if (t.status === 'complete') {
        const acc = await client.getMetricHistory(c.info.run_id, 'val_accuracy');
        expect(acc.map((m) => m.step)).toEqual([2]);
        expect(acc[0]!.value).toBeCloseTo(t.value!, 6);
        expect((await client.getMetricHistory(c.info.run_id, 'val_loss')).length).toBe(1);
      }
    }
    const files = (await client.listArtifacts(parent.info.run_id)).map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['report.json', 'report.html', 'best_config.json', 'model']));
    const modelFiles = (await client.listArtifacts(parent.info.run_id, 'model')).map((f) => f.path);
    expect(modelFiles).toEqual(expect.arrayContaining(['model/config.json', 'model/model.safetensors', 'model/tokenizer.json']));
    const bestConfig = JSON.parse(new TextDecoder().decode(await client.downloadArtifact(parent.info.artifact_uri!, 'best_config.json'))) as { trial: number };
    expect(bestConfig.trial).toBe(out.best!.number);
    const local = readFileSync(join(out.final_model!.path!, 'model.safetensors'));
    const uploaded = await client.downloadArtifact(parent.info.artifact_uri!, 'model/model.safetensors');
    expect(uploaded.byteLength).toBe(local.byteLength);
  });
});
