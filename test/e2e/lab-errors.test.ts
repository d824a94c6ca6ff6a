// The lab page's problems in words, in real Chromium: a malformed dataset names its file and line; a bad search space
// names the parameter; a folder that is not a model says which files are missing; a file name that looks like HTML
// stays text; and a browser without WebGPU gets an explanation instead of a broken page. Screenshots: test-results/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { REPO_ROOT, useBrowser } from '../helpers/browser.ts';

const FIXTURES = join(REPO_ROOT, 'test/fixtures/data');

describe('lab page: user errors', () => {
  const b = useBrowser();

  test('a malformed dataset shows its error (file and line) in the page, and its name stays text', async () => {
    const page = await b.newPage('/');
    await page.locator('tl-setup').getByRole('radio', { name: 'File' }).check();
    const name = '<img src=x onerror=alert(1)>bad-json-many.jsonl';
    await page.locator('tl-setup input[aria-label="Dataset file"]').setInputFiles({ name, mimeType: 'application/json', buffer: readFileSync(join(FIXTURES, 'bad-json-many.jsonl')) });
    await expect.poll(() => page.locator('tl-setup .drop').textContent()).toContain(name);
    expect(await page.locator('tl-setup img').count(), 'a file name is never parsed as HTML').toBe(0);
    await page.getByRole('button', { name: 'Tune' }).click();
    const error = page.locator('[data-testid=error]');
    await expect.poll(() => error.textContent(), { timeout: 60_000 }).toMatch(/bad-json-many\.jsonl:2: 3 of 10 rows .* cannot be used/);
    expect(await page.locator('img').count()).toBe(0);
    await expect.poll(() => page.locator('[data-testid=phase]').textContent()).toBe('error');
    await b.screenshot(page, 'lab-error-dataset');
  });

  test('a bad search space names the parameter; a folder without a model names the missing files', async () => {
    const page = await b.newPage('/');
    await page.locator('tl-setup textarea#space').fill(JSON.stringify({ learning_rate: { type: 'loguniform', low: 1e-3, high: 1e-5 }, batch_size: { type: 'categorical', choices: [16, 32] } }));
    await expect.poll(() => page.locator('[data-testid=space-errors]').textContent()).toMatch(/learning_rate/);
    await page.getByRole('button', { name: 'Tune' }).click();
    await expect.poll(() => page.locator('[data-testid=setup-errors]').textContent()).toMatch(/Search space: .*learning_rate/);
    await b.screenshot(page, 'lab-error-space');

    await page.locator('tl-setup textarea#space').fill('{"learning_rate": {"type": "loguniform", "low": 1e-5, "high": 1e-3}}');
    await page.locator('tl-setup').getByRole('radio', { name: 'Folder on disk' }).check();
    await page.locator('tl-setup input[aria-label="Model folder"]').setInputFiles(join(FIXTURES, 'no-train-folder'));
    await page.getByRole('button', { name: 'Tune' }).click();
    await expect.poll(() => page.locator('[data-testid=error]').textContent(), { timeout: 30_000 }).toMatch(/config\.json and model\.safetensors missing/);
  });

  test('without WebGPU the page says so and what to do', async () => {
    const page = await b.context.newPage();
    await page.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    await page.goto(b.url('/'));
    const banner = page.locator('[data-testid=no-webgpu]');
    await expect.poll(() => banner.textContent(), { timeout: 30_000 }).toMatch(/WebGPU is not available[\s\S]*navigator\.gpu is missing[\s\S]*Chrome/);
    expect(await page.getByRole('button', { name: 'Tune' }).isDisabled()).toBe(true);
    await b.screenshot(page, 'lab-no-webgpu');
    await page.close();
  });
});
