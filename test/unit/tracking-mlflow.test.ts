// End-to-end tracking against a real `mlflow server` (SQLite store, proxied artifacts): what a study
// looks like in MLflow, an outage in the middle of a study, lost responses, and a server that never answers.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileOutboxStore } from '../../src/cli/file-outbox.ts';
import type { Metric, Run } from '../../src/tracking/mlflow-client.ts';
import { MlflowClient } from '../../src/tracking/mlflow-client.ts';
import type { MetricPoint } from '../../src/tracking/tracker.ts';
import { MlflowTracker } from '../../src/tracking/tracker.ts';
import type { MlflowServer } from '../helpers/mlflow-server.ts';
import { startDroppingProxy, startMlflowServer, startSilentServer } from '../helpers/mlflow-server.ts';

let server: MlflowServer;
let client: MlflowClient;
let dir: string;

beforeAll(async () => {
  server = await startMlflowServer();
  client = new MlflowClient({ baseUrl: server.url });
  dir = mkdtempSync(join(tmpdir(), 'tunelab-outbox-'));
});

afterAll(async () => {
  await server?.dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const T0 = 1_700_000_000_000;

/** A deterministic curve: `steps` points per key for one trial. */
function curve(trial: number, steps: number, from = 0): MetricPoint[] {
  const out: MetricPoint[] = [];
  for (let s = from; s < from + steps; s++) {
    out.push({ key: 'train_loss', value: 1 / (s + 1) + trial, step: s, timestamp: T0 + s * 1000 + trial });
    out.push({ key: 'samples_per_second', value: 100 + s, step: s, timestamp: T0 + s * 1000 + trial });
  }
  return out;
}

function tagsOf(run: Run): Record<string, string> {
  return Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

function paramsOf(run: Run): Record<string, string> {
  return Object.fromEntries((run.data.params ?? []).map((t) => [t.key, t.value]));
}

async function studyRuns(studyName: string, studyId: string): Promise<{ parent: Run; children: Run[]; all: Run[] }> {
  const exp = await client.getExperimentByName(studyName);
  expect(exp, `experiment ${studyName}`).not.toBeNull();
  const all = await client.searchAllRuns({ experimentIds: [exp!.experiment_id], filter: `tags.\`tunelab.study_id\` = '${studyId}'`, runViewType: 'ALL' });
  const parents = all.filter((r) => tagsOf(r)['tunelab.kind'] === 'study');
  expect(parents, 'exactly one parent run').toHaveLength(1);
  return { parent: parents[0]!, children: all.filter((r) => tagsOf(r)['tunelab.kind'] === 'trial'), all };
}

function countBy(runs: Run[], key: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of runs) {
    const v = tagsOf(r)[key] ?? '?';
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

async function history(runId: string, key: string): Promise<Metric[]> {
  return (await client.getMetricHistory(runId, key)).sort((a, b) => a.step - b.step);
}

describe('MLflow tracking against a real server', () => {
  it('a synthetic 3-trial study lands as experiment, parent, nested children, params, metric histories, statuses and artifacts', async () => {
    const store = new FileOutboxStore(join(dir, 'a.jsonl'));
    const errors: string[] = [];
    const tracker = await MlflowTracker.open({
      url: server.url,
      store,
      tunelabVersion: '0.1.0-test',
      lingerMs: 20,
      onError: (e) => errors.push(e instanceof Error ? e.message : String(e)),
    });
    const longNotes = 'n'.repeat(7000);
    tracker.studyStarted({
      studyId: 'study-a',
      studyName: 'imdb-lr-search',
      space: { lr: { type: 'log-uniform', low: 1e-5, high: 1e-3 }, batch_size: { type: 'choice', values: [16, 32] } },
      settings: { epochs: 2, maxLength: 128, notes: longNotes },
      model: 'distilbert-base-uncased',
      datasetHash: 'sha256:abc',
    });
    const trials = [
      { id: 'trial-a0', end: { state: 'complete' as const }, steps: 12 },
      { id: 'trial-a1', end: { state: 'failed' as const, reason: 'diverged' }, steps: 5 },
      { id: 'trial-a2', end: { state: 'pruned' as const, reason: 'median rule at step 3' }, steps: 4 },
    ];
    const sent = new Map<string, MetricPoint[]>();
    trials.forEach((t, i) => {
      tracker.trialStarted({ trialId: t.id, number: i, params: { lr: 1e-4 * (i + 1), batch_size: 16 * (i + 1), warmup: 0.1 }, seed: 42 + i, model: 'distilbert-base-uncased', datasetHash: 'sha256:abc' });
      const points = curve(i, t.steps);
      if (t.end.state === 'failed') points.push({ key: 'train_loss', value: Number.NaN, step: t.steps, timestamp: T0 + 99_000 });
      points.push({ key: 'val_loss', value: 0.5 + i, step: 0, timestamp: T0 + 1 }, { key: 'val_accuracy', value: 0.8 - i / 10, step: 0, timestamp: T0 + 1 });
      // In several events, as the trainer reports them.
      for (let k = 0; k < points.length; k += 5) tracker.trialMetrics(t.id, points.slice(k, k + 5));
      sent.set(t.id, points);
      tracker.trialEnded(t.id, t.end);
    });
    const report = new TextEncoder().encode(JSON.stringify({ best: 'trial-a0' }));
    tracker.studyArtifact('report.json', report, 'application/json');
    tracker.studyArtifact('best_config.json', new TextEncoder().encode('{"lr":0.0001}'), 'application/json');
    tracker.studyEnded('complete');

    const result = await tracker.close(60_000);
    expect(errors).toEqual([]);
    expect(result.drained).toBe(true);
    expect(result.dropped).toBe(0);
    expect(store.size).toBe(0);

    const { parent, children } = await studyRuns('imdb-lr-search', 'study-a');
    expect(parent.info.status).toBe('FINISHED');
    expect(parent.info.run_name).toBe('imdb-lr-search');
    const pt = tagsOf(parent);
    expect(pt['tunelab.version']).toBe('0.1.0-test');
    expect(pt['tunelab.model']).toBe('distilbert-base-uncased');
    expect(pt['tunelab.dataset_hash']).toBe('sha256:abc');
    const pp = paramsOf(parent);
    expect(pp['epochs']).toBe('2');
    expect(pp['maxLength']).toBe('128');
    expect(JSON.parse(pp['space.lr']!)).toEqual({ type: 'log-uniform', low: 1e-5, high: 1e-3 });
    expect(pp['notes']).toHaveLength(6000);
    expect(pp['notes']!.endsWith('[truncated]')).toBe(true);

    expect(children).toHaveLength(3);
    const byTrial = new Map(children.map((c) => [tagsOf(c)['tunelab.trial_id']!, c]));
    const expectStatus = { 'trial-a0': 'FINISHED', 'trial-a1': 'FAILED', 'trial-a2': 'KILLED' } as const;
    for (const [i, t] of trials.entries()) {
      const run = byTrial.get(t.id);
      expect(run, t.id).toBeDefined();
      const tags = tagsOf(run!);
      expect(tags['mlflow.parentRunId']).toBe(parent.info.run_id);
      expect(run!.info.run_name).toBe(`trial-${i}`);
      expect(run!.info.status).toBe(expectStatus[t.id as keyof typeof expectStatus]);
      expect(tags['tunelab.seed']).toBe(String(42 + i));
      expect(tags['tunelab.version']).toBe('0.1.0-test');
      expect(tags['tunelab.state']).toBe(t.end.state);
      expect(paramsOf(run!)).toEqual({ lr: String(1e-4 * (i + 1)), batch_size: String(16 * (i + 1)), warmup: '0.1' });
      const points = sent.get(t.id)!;
      for (const key of ['train_loss', 'samples_per_second', 'val_loss', 'val_accuracy']) {
        const want = points.filter((p) => p.key === key).map((p) => ({ step: p.step, value: Number.isNaN(p.value) ? 'NaN' : p.value, timestamp: p.timestamp }));
        const got = (await history(run!.info.run_id, key)).map((m) => ({ step: m.step, value: m.value, timestamp: m.timestamp }));
        expect(got, `${t.id} ${key}`).toEqual(want);
      }
    }
    expect(tagsOf(byTrial.get('trial-a1')!)['tunelab.failure_reason']).toBe('diverged');
    expect(tagsOf(byTrial.get('trial-a0')!)['tunelab.failure_reason']).toBeUndefined();
    expect(tagsOf(byTrial.get('trial-a2')!)['tunelab.end_reason']).toBe('median rule at step 3');

    const files = (await client.listArtifacts(parent.info.run_id)).map((f) => f.path).sort();
    expect(files).toEqual(['best_config.json', 'report.json', 'settings.json', 'space.json']);
    const back = await client.downloadArtifact(parent.info.artifact_uri!, 'report.json');
    expect(new TextDecoder().decode(back)).toBe(JSON.stringify({ best: 'trial-a0' }));
    const settings = JSON.parse(new TextDecoder().decode(await client.downloadArtifact(parent.info.artifact_uri!, 'settings.json'))) as { notes: string };
    expect(settings.notes).toBe(longNotes);
  });

  it('survives the server going down mid-study: every metric arrives once, no run is duplicated', async () => {
    const store = new FileOutboxStore(join(dir, 'b.jsonl'));
    const tracker = await MlflowTracker.open({ url: server.url, store, tunelabVersion: 't', lingerMs: 10, baseDelayMs: 100, maxDelayMs: 800, timeoutMs: 3000 });
    tracker.studyStarted({ studyId: 'study-b', studyName: 'outage', space: { lr: [1e-5, 1e-3] }, settings: { trials: 3 } });
    const ids = ['b0', 'b1', 'b2'];
    tracker.trialStarted({ trialId: 'b0', number: 0, params: { lr: 1 }, seed: 1, model: 'm', datasetHash: 'h' });
    tracker.trialMetrics('b0', curve(0, 5));
    expect((await tracker.flush(30_000)).drained).toBe(true);

    await server.stop();
    tracker.trialMetrics('b0', curve(0, 5, 5));
    tracker.trialEnded('b0', { state: 'complete' });
    tracker.trialStarted({ trialId: 'b1', number: 1, params: { lr: 2 }, seed: 2, model: 'm', datasetHash: 'h' });
    tracker.trialMetrics('b1', curve(1, 10));
    tracker.trialEnded('b1', { state: 'failed', reason: 'out-of-memory' });
    tracker.trialStarted({ trialId: 'b2', number: 2, params: { lr: 3 }, seed: 3, model: 'm', datasetHash: 'h' });
    tracker.trialMetrics('b2', curve(2, 4));
    // Let the flusher fail against the dead port for a while.
    await new Promise((r) => setTimeout(r, 1500));
    const during = tracker.stats();
    expect(during.pending).toBeGreaterThan(0);
    expect(during.attempt).toBeGreaterThan(1);
    expect(during.lastError).toMatch(/cannot reach|no answer/);

    await server.start();
    tracker.trialMetrics('b2', curve(2, 6, 4));
    tracker.trialEnded('b2', { state: 'complete' });
    tracker.studyEnded('complete');
    const result = await tracker.close(60_000);
    expect(result.drained).toBe(true);
    expect(result.dropped).toBe(0);

    const { parent, children, all } = await studyRuns('outage', 'study-b');
    expect(all).toHaveLength(4);
    expect(countBy(children, 'tunelab.trial_id')).toEqual({ b0: 1, b1: 1, b2: 1 });
    expect(parent.info.status).toBe('FINISHED');
    for (const [i, id] of ids.entries()) {
      const run = children.find((c) => tagsOf(c)['tunelab.trial_id'] === id)!;
      const h = await history(run.info.run_id, 'train_loss');
      expect(h.map((m) => m.step), id).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(h.map((m) => m.value)).toEqual(curve(i, 10).filter((p) => p.key === 'train_loss').map((p) => p.value));
    }
  });

  it('a create whose answer is lost is not repeated: retries find the run by its tunelab.trial_id tag', async () => {
    let createsToDrop = 2;
    let batchesToDrop = 2;
    const proxy = await startDroppingProxy(server.url, (method, path) => {
      if (path.includes('/runs/create') && createsToDrop > 0) return createsToDrop-- > 0;
      if (path.includes('/runs/log-batch') && batchesToDrop > 0) return batchesToDrop-- > 0;
      return false;
    });
    try {
      const tracker = await MlflowTracker.open({ url: proxy.url, store: new FileOutboxStore(join(dir, 'b2.jsonl')), tunelabVersion: 't', lingerMs: 10, baseDelayMs: 50, maxDelayMs: 200 });
      tracker.studyStarted({ studyId: 'study-lost', studyName: 'lost-answers', space: {}, settings: {} });
      tracker.trialStarted({ trialId: 'L0', number: 0, params: { lr: 1 }, seed: 1, model: 'm', datasetHash: 'h' });
      tracker.trialMetrics('L0', curve(0, 6));
      tracker.trialEnded('L0', { state: 'complete' });
      tracker.studyEnded('complete');
      const result = await tracker.close(30_000);
      expect(result.drained).toBe(true);
      expect(proxy.dropped()).toBe(4);
      const { children, all } = await studyRuns('lost-answers', 'study-lost');
      expect(all).toHaveLength(2);
      expect(children).toHaveLength(1);
      const h = await history(children[0]!.info.run_id, 'train_loss');
      expect(h.map((m) => m.step)).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await proxy.close();
    }
  });

  it('a server that never answers does not slow the producer; the outbox stays on disk and a later flush delivers it', async () => {
    const silent = await startSilentServer();
    const path = join(dir, 'c.jsonl');
    const trials = 10;
    const eventsPerTrial = 100;
    let enqueueMs = 0;
    let events = 0;
    try {
      const tracker = await MlflowTracker.open({ url: silent.url, store: new FileOutboxStore(path), tunelabVersion: 't', timeoutMs: 300, baseDelayMs: 100 });
      const t0 = performance.now();
      tracker.studyStarted({ studyId: 'study-c', studyName: 'silent', space: { lr: [0, 1] }, settings: { trials } });
      events++;
      for (let i = 0; i < trials; i++) {
        tracker.trialStarted({ trialId: `c${i}`, number: i, params: { lr: i / 100 }, seed: i, model: 'm', datasetHash: 'h' });
        for (let s = 0; s < eventsPerTrial; s++) tracker.trialMetrics(`c${i}`, [{ key: 'train_loss', value: 1 / (s + 1), step: s, timestamp: T0 + s }]);
        tracker.trialEnded(`c${i}`, { state: 'complete' });
        events += eventsPerTrial + 2;
      }
      tracker.studyEnded('complete');
      events++;
      enqueueMs = performance.now() - t0;
      const flushed = await tracker.flush(1000);
      expect(flushed.drained).toBe(false);
      expect(flushed.delivered).toBe(0);
      expect(flushed.lastError).toMatch(/no answer from .* within 300 ms/);
      await tracker.close();
    } finally {
      await silent.close();
    }
    // ~1000 events, each persisted to the journal before enqueue returned: well under 1 ms apiece.
    console.log(`enqueue: ${events} events in ${enqueueMs.toFixed(1)} ms (${((enqueueMs / events) * 1000).toFixed(1)} us/event)`);
    expect(enqueueMs).toBeLessThan(1500);
    expect(existsSync(path)).toBe(true);
    const kept = new FileOutboxStore(path).load();
    // 2 artifacts (space.json, settings.json) ride along with the study start.
    expect(kept).toHaveLength(events + 2);

    const later = await MlflowTracker.open({ url: server.url, store: new FileOutboxStore(path), tunelabVersion: 't' });
    const result = await later.close(60_000);
    expect(result.drained).toBe(true);
    expect(result.dropped).toBe(0);
    expect(new FileOutboxStore(path).load()).toHaveLength(0);
    const { parent, children } = await studyRuns('silent', 'study-c');
    expect(parent.info.status).toBe('FINISHED');
    expect(children).toHaveLength(trials);
    expect(Object.values(countBy(children, 'tunelab.trial_id')).every((n) => n === 1)).toBe(true);
    const last = children.find((c) => tagsOf(c)['tunelab.trial_id'] === `c${trials - 1}`)!;
    expect(last.info.status).toBe('FINISHED');
    expect((await history(last.info.run_id, 'train_loss')).map((m) => m.step)).toEqual(Array.from({ length: eventsPerTrial }, (_, s) => s));
  });
});
