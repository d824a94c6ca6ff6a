// A study run from the lab page (real Chromium, WebGPU on SwiftShader) lands in a real MLflow server (SQLite store,
// 127.0.0.1; MLflow >= 3.5 allows http://127.0.0.1:* origins by default, so the page's cross-origin calls pass CORS):
// the experiment named after the study, a parent run and one child run per trial (mlflow.parentRunId), their params,
// metric histories and statuses, checked through MLflow's REST API; then MLflow's own UI shows the runs (screenshot
// test-results/mlflow-ui.png). Last, a URL with nothing listening: the page says, in words, that MLflow refused.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { RESULTS_DIR, useBrowser } from '../helpers/browser.ts';
import { freePort, startMlflowServer, type MlflowServer } from '../helpers/mlflow-server.ts';

/** Small enough for SwiftShader: 2-3 optimizer steps per trial. */
const SETTINGS: Record<string, string> = { maxTrials: '2', seqLen: '32', trainRows: '48', valRows: '32', testRows: '64', evalsPerEpoch: '1' };
const UI_SHOT = join(RESULTS_DIR, 'mlflow-ui.png');
const ENDED = ['complete', 'pruned', 'failed'];
const RUN_STATUS: Record<string, string> = { complete: 'FINISHED', pruned: 'KILLED', failed: 'FAILED' };

interface Row { id: string; status: string }
interface KeyValue { key: string; value: string }
interface Run {
  info: { run_id: string; run_name?: string; status: string; experiment_id: string };
  data: { params?: KeyValue[]; tags?: KeyValue[]; metrics?: { key: string; value: number; step: number }[] };
}

async function rows(page: Page): Promise<Row[]> {
  return page.locator('tl-trials-table tbody tr[data-trial]').evaluateAll((trs) => trs.map((tr) => ({ id: tr.getAttribute('data-trial') ?? '', status: tr.getAttribute('data-status') ?? '' })));
}

async function setUp(page: Page, mlflowUrl: string): Promise<void> {
  await expect.poll(() => page.locator('tl-gpu-panel dd').first().textContent(), { timeout: 60_000 }).toMatch(/swiftshader|google/i);
  await page.locator('tl-setup summary', { hasText: 'Advanced' }).click();
  for (const [id, value] of Object.entries(SETTINGS)) await page.locator(`tl-setup #${id}`).fill(value);
  await page.locator('tl-setup summary', { hasText: 'MLflow' }).click();
  await page.locator('tl-setup').getByLabel('Log trials to an MLflow server').check();
  await page.locator('tl-setup #mlflow-url').fill(mlflowUrl);
}

async function api<T>(base: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}/api/2.0/mlflow/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`MLflow ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

const tagOf = (r: Run, key: string): string | undefined => r.data.tags?.find((t) => t.key === key)?.value;
const paramKeys = (r: Run): string[] => (r.data.params ?? []).map((p) => p.key).sort();

describe('lab page -> MLflow', () => {
  const b = useBrowser();
  let server: MlflowServer | undefined;
  beforeAll(async () => {
    server = await startMlflowServer({ startTimeoutMs: 150_000 });
  }, 180_000);
  afterAll(async () => {
    await server?.dispose();
  }, 30_000);

  test('a study run from the page shows in MLflow (REST and its own UI); a dead server is reported in words', async () => {
    const mlflow = server!;
    const t0 = Date.now();
    const page = await b.newPage('/');
    await setUp(page, mlflow.url);
    await page.getByRole('button', { name: 'Tune' }).click();

    await expect.poll(() => page.locator('[data-testid=mlflow]').textContent(), { timeout: 120_000 }).toContain(`Logging to MLflow at ${mlflow.url}`);
    const studyName = (await page.locator('tl-study-bar h2 .muted').textContent())?.trim() ?? '';
    expect(studyName).toMatch(/^lab-\d+$/);

    // The study ends on the page (trial budget reached).
    let end: Row[] = [];
    for (;;) {
      end = await rows(page);
      const phase = await page.locator('[data-testid=phase]').textContent();
      if (phase === 'finished' && end.length >= 2 && end.every((x) => ENDED.includes(x.status))) break;
      const err = await page.locator('[data-testid=error]').allTextContents();
      if (err.length > 0) throw new Error(`page error while waiting for the study: ${err.join(' ')}`);
      if (Date.now() - t0 > 300_000) throw new Error(`timed out waiting for the end of the study; rows ${JSON.stringify(end)}; phase ${phase}`);
      await page.waitForTimeout(1000);
    }
    console.log(`lab-mlflow: study ${studyName} finished after ${((Date.now() - t0) / 1000).toFixed(0)} s: ${JSON.stringify(end)}`);
    // No delivery failed on the way (the note would say "refused").
    expect(await page.locator('[data-testid=mlflow]').textContent()).not.toMatch(/refused|cannot be used/);

    // MLflow's REST API: the experiment named after the study, one parent run, one child run per trial.
    const exp = await api<{ experiment: { experiment_id: string; name: string; tags?: KeyValue[] } }>(mlflow.url, `experiments/get-by-name?experiment_name=${encodeURIComponent(studyName)}`);
    const expId = exp.experiment.experiment_id;
    // Without this tag MLflow 3's UI opens the experiment as a GenAI traces overview, not the runs table.
    expect(exp.experiment.tags?.find((t) => t.key === 'mlflow.experimentKind')?.value).toBe('custom_model_development');
    let runs: Run[] = [];
    const settled = (rs: Run[]): boolean => {
      const children = rs.filter((r) => tagOf(r, 'mlflow.parentRunId') !== undefined);
      return children.length >= end.length && children.every((r) => r.info.status !== 'RUNNING') && children.every((r) => (r.data.metrics ?? []).some((m) => m.key === 'val_accuracy'))
        && rs.some((r) => tagOf(r, 'tunelab.kind') === 'study' && r.info.status !== 'RUNNING');
    };
    await expect.poll(async () => {
      runs = (await api<{ runs?: Run[] }>(mlflow.url, 'runs/search', { experiment_ids: [expId], max_results: 100 })).runs ?? [];
      return settled(runs);
    }, { timeout: 60_000, interval: 1000 }).toBe(true);

    const parents = runs.filter((r) => tagOf(r, 'tunelab.kind') === 'study');
    expect(parents.length, 'one parent run per study').toBe(1);
    const parent = parents[0]!;
    expect(parent.info.run_name).toBe(studyName);
    expect(parent.info.status, 'the parent run ends with the study').toBe('FINISHED');
    expect(tagOf(parent, 'tunelab.study_id')).toBe(studyName);
    expect(paramKeys(parent).filter((k) => k.startsWith('space.')).length, `parent params ${paramKeys(parent).join(',')}`).toBeGreaterThanOrEqual(2);
    expect(paramKeys(parent)).toEqual(expect.arrayContaining(['seq_len', 'train_rows', 'budget', 'sampler']));

    const children = runs.filter((r) => tagOf(r, 'tunelab.kind') === 'trial');
    expect(children.every((r) => tagOf(r, 'mlflow.parentRunId') === parent.info.run_id), 'every trial run is nested under the parent').toBe(true);
    expect(children.length, 'one child run per trial, none twice').toBe(end.length);
    for (const row of end) {
      const run = children.find((r) => r.info.run_name === `trial-${row.id}`);
      expect(run, `child run trial-${row.id}`).toBeDefined();
      const r = run!;
      expect(r.info.status, `trial ${row.id} (${row.status})`).toBe(RUN_STATUS[row.status]);
      expect(paramKeys(r).length, `trial ${row.id} params`).toBeGreaterThanOrEqual(2);
      for (const key of ['tunelab.seed', 'tunelab.model', 'tunelab.dataset_hash', 'tunelab.version', 'tunelab.trial_id']) expect(tagOf(r, key), `trial ${row.id} tag ${key}`).toBeTruthy();
      const loss = await api<{ metrics?: { value: number; step: number }[] }>(mlflow.url, `metrics/get-history?run_id=${r.info.run_id}&metric_key=train_loss`);
      expect(loss.metrics?.length ?? 0, `trial ${row.id} train_loss history`).toBeGreaterThanOrEqual(2);
      expect(new Set(loss.metrics?.map((m) => m.step)).size, 'train_loss at distinct steps').toBe(loss.metrics?.length);
      for (const m of loss.metrics ?? []) expect(Number.isFinite(m.value) && m.value > 0).toBe(true);
      const acc = await api<{ metrics?: { value: number; step: number }[] }>(mlflow.url, `metrics/get-history?run_id=${r.info.run_id}&metric_key=val_accuracy`);
      expect(acc.metrics?.length ?? 0, `trial ${row.id} val_accuracy history`).toBeGreaterThanOrEqual(1);
      for (const m of acc.metrics ?? []) expect(m.value >= 0 && m.value <= 1, `val_accuracy ${m.value}`).toBe(true);
    }

    // MLflow's own UI, in the same browser: the runs table lists the study's runs.
    const ui = await b.context.newPage();
    await ui.goto(`${mlflow.url}/#/experiments/${expId}`);
    // MLflow 3 starts in its GenAI workflow (traces); its "Model training" switch shows the runs table.
    await ui.getByText('Model training', { exact: true }).click({ timeout: 90_000 });
    await ui.goto(`${mlflow.url}/#/experiments/${expId}/runs`);
    // The parent run's row (child runs fold under it) under a "Run Name" header: the study name is then on the page
    // at least three times (side bar, breadcrumb, row).
    const tableShown = async (): Promise<boolean> => {
      const text = await ui.locator('body').innerText();
      return /Run Name/i.test(text) && text.split(studyName).length - 1 >= 3;
    };
    try {
      await expect.poll(tableShown, { timeout: 60_000, interval: 1000 }).toBe(true);
    } finally {
      await ui.screenshot({ path: join(RESULTS_DIR, 'mlflow-ui-wait.png'), fullPage: true });
      console.log(`lab-mlflow: UI text: ${(await ui.locator('body').innerText()).replace(/\s+/g, ' ').slice(0, 1500)}`);
    }
    // Unfold the child runs when the table offers it (best effort: the picture only).
    const expand = ui.getByRole('button', { name: /expand/i }).first();
    if (await expand.count() > 0) await expand.click().catch(() => undefined);
    await ui.waitForTimeout(1500); // let the table finish laying out before the picture
    mkdirSync(RESULTS_DIR, { recursive: true });
    await ui.screenshot({ path: UI_SHOT, fullPage: true });
    console.log(`lab-mlflow: MLflow UI screenshot ${UI_SHOT}`);
    await ui.close();

    // Nothing listening: the page says so in words, and the study still runs. New study on the same page.
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    await page.getByRole('button', { name: 'New study' }).click();
    await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 30_000 }).toBe('idle');
    await page.reload();
    await setUp(page, deadUrl);
    await page.getByRole('button', { name: 'Tune' }).click();
    await expect.poll(() => page.locator('[data-testid=mlflow]').textContent(), { timeout: 120_000 })
      .toMatch(new RegExp(`MLflow at ${deadUrl.replace(/[.:/]/g, '\\$&')} refused [\\w-]+: .+\\(will retry; training goes on\\)`));
    await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 60_000 }).toMatch(/running|finished/);
    await b.screenshot(page, 'lab-mlflow-down');
    console.log(`lab-mlflow: dead-server note: ${await page.locator('[data-testid=mlflow]').textContent()}`);
    if ((await page.locator('[data-testid=phase]').textContent()) === 'running') await page.getByRole('button', { name: 'Stop' }).click();
    console.log(`lab-mlflow: total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }, 400_000);
});
