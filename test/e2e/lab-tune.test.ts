// The lab page end to end in real Chromium (WebGPU on SwiftShader): set up the offline demo with small limits, click
// Tune, reload in the middle of the study (it must resume: nothing finished lost, no trial twice), wait for the end,
// and check the Trials table, the charts, the best trial with its test accuracy, the "try it" box and the downloads.
// Screenshots: test-results/lab-*.png.
import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { useBrowser } from '../helpers/browser.ts';

/** Small enough for SwiftShader: 2-3 optimizer steps per trial. */
const SETTINGS: Record<string, string> = { maxTrials: '3', seqLen: '32', trainRows: '48', valRows: '32', testRows: '64', evalsPerEpoch: '1' };

async function rows(page: Page): Promise<{ id: string; status: string }[]> {
  return page.locator('tl-trials-table tbody tr[data-trial]').evaluateAll((trs) => trs.map((tr) => ({ id: tr.getAttribute('data-trial') ?? '', status: tr.getAttribute('data-status') ?? '' })));
}

async function waitFor(page: Page, what: string, ok: (r: { id: string; status: string }[]) => boolean, timeoutMs: number): Promise<{ id: string; status: string }[]> {
  const t0 = Date.now();
  for (;;) {
    const r = await rows(page);
    if (ok(r)) return r;
    const err = await page.locator('[data-testid=error]').allTextContents();
    if (err.length > 0) throw new Error(`page error while waiting for ${what}: ${err.join(' ')}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}; rows: ${JSON.stringify(r)}; status: ${await page.locator('[data-testid=status]').textContent()}`);
    await page.waitForTimeout(500);
  }
}

describe('lab page: tune the demo', () => {
  const b = useBrowser();

  test('Tune runs trials live, survives a reload, and ends with the best model', async () => {
    const page = await b.newPage('/');
    await expect.poll(() => page.locator('tl-gpu-panel dd').first().textContent(), { timeout: 30_000 }).toMatch(/swiftshader|google/i);
    await expect(page.getByRole('button', { name: 'Tune' }).isEnabled()).resolves.toBe(true);
    await b.screenshot(page, 'lab-1-start');

    await page.locator('tl-setup summary', { hasText: 'Advanced' }).click();
    for (const [id, value] of Object.entries(SETTINGS)) await page.locator(`tl-setup #${id}`).fill(value);
    await page.getByRole('button', { name: 'Tune' }).click();

    // The study starts: rows appear with a running trial.
    await waitFor(page, 'a running trial', (r) => r.some((x) => x.status === 'running'), 120_000);
    const first = await waitFor(page, 'the first finished trial', (r) => r.some((x) => x.status === 'complete' || x.status === 'pruned'), 240_000);
    await b.screenshot(page, 'lab-2-running');
    const finishedBefore = first.filter((x) => x.status === 'complete' || x.status === 'pruned').map((x) => x.id);

    // Reload mid-study: the finished trials are still there, and the study resumes by itself.
    await page.reload();
    const after = await waitFor(page, 'the restored trials', (r) => r.length >= finishedBefore.length, 30_000);
    for (const id of finishedBefore) expect(after.find((x) => x.id === id)?.status, `trial ${id} after reload`).toMatch(/complete|pruned/);
    await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 60_000 }).toMatch(/running|finished/);

    // Pause ends the running trial (it waits as pending), Resume takes the study up again.
    if ((await page.locator('[data-testid=phase]').textContent()) === 'running') {
      await page.getByRole('button', { name: 'Pause' }).click();
      await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 90_000 }).toMatch(/paused|finished/);
      if ((await page.locator('[data-testid=phase]').textContent()) === 'paused') {
        expect((await rows(page)).some((x) => x.status === 'running'), 'no trial runs while paused').toBe(false);
        await b.screenshot(page, 'lab-2b-paused');
        console.log('lab-tune: pause and resume exercised');
        await page.getByRole('button', { name: 'Resume' }).click();
        await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 60_000 }).toMatch(/running|finished/);
      }
    }

    const end = await waitFor(page, 'the end of the study', (r) => r.length >= 3 && r.every((x) => ['complete', 'pruned', 'failed'].includes(x.status)), 300_000);
    expect(new Set(end.map((x) => x.id)).size, 'no trial id appears twice').toBe(end.length);
    expect(end.filter((x) => x.status === 'complete').length, JSON.stringify(end)).toBeGreaterThanOrEqual(2);
    await expect.poll(() => page.locator('[data-testid=phase]').textContent(), { timeout: 30_000 }).toBe('finished');

    // Charts drew something, and the best trial shows its test accuracy.
    for (const chart of ['loss', 'accuracy', 'history', 'parallel']) {
      await expect.poll(() => page.locator(`tl-chart[data-chart=${chart}] svg path`).count(), { timeout: 10_000 }).toBeGreaterThan(3);
    }
    await expect.poll(() => page.locator('[data-testid=test-accuracy]').textContent(), { timeout: 120_000 }).toMatch(/^\d+(\.\d)?%$/);
    await expect(page.locator('[data-testid=best-trial]').textContent()).resolves.toMatch(/^#\d+$/);

    // Try it: the tuned model classifies a typed review.
    await page.getByRole('button', { name: 'Predict' }).click();
    await expect.poll(() => page.locator('[data-testid=prediction]').textContent(), { timeout: 60_000 }).toMatch(/(Positive|Negative)[\s\S]*% positive/);

    // The model downloads as a zip holding a Hugging Face folder.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download model (.zip)' }).click()]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    const [report] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Report (JSON)' }).click()]);
    expect(report.suggestedFilename()).toMatch(/report\.json$/);
    await b.screenshot(page, 'lab-3-finished');
  });
});
