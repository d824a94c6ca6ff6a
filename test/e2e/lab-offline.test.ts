// Offline: the production build (vite build + vite-plugin-pwa) served by `vite preview`; after one visit the service
// worker has precached the app shell and the demo assets, so with the network cut the page still opens and the demo
// model, the IMDB sample and both worker scripts load from the cache.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { launchChromium, REPO_ROOT, RESULTS_DIR, type ChromiumHandle } from '../helpers/browser.ts';

// Vite's build hangs inside a vitest worker here, so build and preview run as child processes.
const VITE = join(REPO_ROOT, 'node_modules/vite/bin/vite.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`vite preview did not answer at ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('lab page: offline app shell', () => {
  const outDir = mkdtempSync(join(tmpdir(), 'tunelab-dist-'));
  let server: ChildProcess | undefined;
  let browser: ChromiumHandle | undefined;
  afterAll(async () => {
    await browser?.close();
    server?.kill();
    rmSync(outDir, { recursive: true, force: true });
  });

  test('after one visit, the page and the demo assets load with no network', async () => {
    execFileSync(process.execPath, [VITE, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit', timeout: 120_000 });
    const port = await freePort();
    server = spawn(process.execPath, [VITE, 'preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: REPO_ROOT, stdio: 'ignore' });
    const origin = `http://127.0.0.1:${port}`;
    await waitForHttp(`${origin}/`, 30_000);
    browser = await launchChromium();
    const page = await browser.context.newPage();
    await page.goto(`${origin}/`);
    // Wait until the service worker controls the page (it claims clients on activation).
    await page.evaluate(async () => { await navigator.serviceWorker.ready; });
    await page.reload();
    expect(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the service worker controls the page').toBe(true);
    await browser.context.setOffline(true);
    await page.reload();
    await expect.poll(() => page.locator('tunelab-app header h1').textContent(), { timeout: 20_000 }).toBe('TuneLab');
    const assets = ['demo/model/config.json', 'demo/model/model.safetensors', 'demo/model/tokenizer.json', 'demo/imdb-sample/train.jsonl.gz', 'demo/imdb-sample/test.jsonl.gz'];
    const sizes = await page.evaluate(async (paths) => Promise.all(paths.map(async (p) => {
      const r = await fetch(p);
      return r.ok ? (await r.arrayBuffer()).byteLength : -r.status;
    })), assets);
    for (const [i, p] of assets.entries()) expect(sizes[i], p).toBeGreaterThan(100);
    const workerScripts = readdirSync(join(outDir, 'assets')).filter((n) => /worker.*\.js$/.test(n)).map((n) => `assets/${n}`);
    expect(workerScripts.length, 'trainer and data worker bundles').toBeGreaterThanOrEqual(2);
    const workerOk = await page.evaluate(async (paths) => Promise.all(paths.map(async (p) => (await fetch(p)).ok)), workerScripts);
    expect(workerOk.every(Boolean), JSON.stringify(workerScripts)).toBe(true);
    await expect.poll(() => page.locator('tl-gpu-panel dd').first().textContent(), { timeout: 30_000 }).toMatch(/swiftshader|google/i);
    await page.screenshot({ path: join(RESULTS_DIR, 'lab-offline.png'), fullPage: true });
  });
});
