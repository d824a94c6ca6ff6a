// Real-Chromium test harness: a Vite dev server on 127.0.0.1 (a secure context, so WebGPU and IndexedDB work)
// and Debian's Chromium driven by playwright-core, headless, WebGPU on SwiftShader.
//
// API (stable; other test files use it):
//   const b = useBrowser(opts?)          // inside a describe(): starts Vite + Chromium in beforeAll, stops in afterAll,
//                                        // prints console/page errors and saves a screenshot when a test fails
//   b.url(path)                          // absolute URL on the dev server, e.g. b.url('/test/e2e/pages/data.html')
//   await b.newPage(path?)               // a page in the browser context (opened at path when given), logs collected
//   await b.restart()                    // closes Chromium and starts it again on the SAME user-data-dir (storage survives)
//   await b.screenshot(page, name)       // test-results/<name>.png
//   b.logs                               // console errors/warnings, page errors and failed requests, "[kind] text"
// Lower level: startViteServer(), launchChromium(), CHROMIUM_ARGS.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type InlineConfig, type ViteDevServer } from 'vite';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const RESULTS_DIR = join(REPO_ROOT, 'test-results');
/** The chromium launcher script picks flags from /etc; the binary behind it is what Playwright must start. */
export const CHROMIUM_PATH = process.env.TUNELAB_CHROMIUM ?? '/usr/lib/chromium/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export interface ViteHandle {
  server: ViteDevServer;
  /** "http://127.0.0.1:PORT" without a trailing slash. */
  origin: string;
  close(): Promise<void>;
}

/**
 * The repo's Vite dev server on a free port. vite.config.ts (when present) is loaded as usual; `inline` is merged
 * over it. Dependencies are pre-bundled up front so a late discovery never reloads a page in the middle of a test.
 */
export async function startViteServer(inline: InlineConfig = {}): Promise<ViteHandle> {
  const server = await createServer({
    root: REPO_ROOT,
    logLevel: 'warn',
    clearScreen: false,
    ...inline,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, ...inline.server },
    optimizeDeps: {
      ...inline.optimizeDeps,
      include: ['comlink', 'idb', 'hyparquet', 'papaparse', '@huggingface/tokenizers', ...(inline.optimizeDeps?.include ?? [])],
    },
  });
  await server.listen();
  const addr = server.httpServer?.address() as AddressInfo | null;
  if (addr === null || typeof addr !== 'object') throw new Error('vite dev server has no address');
  return { server, origin: `http://127.0.0.1:${addr.port}`, close: () => server.close() };
}

export interface ChromiumHandle {
  context: BrowserContext;
  userDataDir: string;
  close(): Promise<void>;
}

/** Chromium with a persistent profile in userDataDir (a fresh temp folder when omitted). */
export async function launchChromium(userDataDir?: string, extraArgs: string[] = []): Promise<ChromiumHandle> {
  const dir = userDataDir ?? mkdtempSync(join(tmpdir(), 'tunelab-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
  });
  return { context, userDataDir: dir, close: () => context.close() };
}

export interface BrowserOptions {
  /** Extra Chromium flags (e.g. '--disable-features=WebRtcHideLocalIpsWithMdns'). */
  args?: string[];
  vite?: InlineConfig;
}

export class TestBrowser {
  readonly logs: string[] = [];
  private chromium: ChromiumHandle | null = null;
  private readonly pages: Page[] = [];

  private constructor(readonly vite: ViteHandle, private readonly args: string[], readonly userDataDir: string) {}

  static async start(opts: BrowserOptions = {}): Promise<TestBrowser> {
    const vite = await startViteServer(opts.vite ?? {});
    const b = new TestBrowser(vite, opts.args ?? [], mkdtempSync(join(tmpdir(), 'tunelab-chromium-')));
    try {
      await b.launch();
    } catch (e) {
      await vite.close();
      throw e;
    }
    return b;
  }

  private async launch(): Promise<void> {
    this.chromium = await launchChromium(this.userDataDir, this.args);
  }

  get context(): BrowserContext {
    if (this.chromium === null) throw new Error('browser is not running');
    return this.chromium.context;
  }

  url(path = '/'): string {
    return `${this.vite.origin}${path.startsWith('/') ? path : `/${path}`}`;
  }

  async newPage(path?: string): Promise<Page> {
    const page = await this.context.newPage();
    this.pages.push(page);
    const tag = (): string => page.url().replace(this.vite.origin, '');
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') this.logs.push(`[console.${m.type()}] ${tag()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.logs.push(`[pageerror] ${tag()}: ${e.stack ?? e.message}`));
    page.on('requestfailed', (r) => this.logs.push(`[requestfailed] ${r.url()}: ${r.failure()?.errorText ?? ''}`));
    page.on('crash', () => this.logs.push(`[crash] ${tag()}`));
    if (path !== undefined) await page.goto(this.url(path));
    return page;
  }

  /** Closes Chromium and starts it again on the same profile: IndexedDB and other storage persist. */
  async restart(): Promise<void> {
    await this.chromium?.close();
    this.pages.length = 0;
    await this.launch();
  }

  async screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(RESULTS_DIR, { recursive: true });
    const file = join(RESULTS_DIR, `${name.replace(/[^\w.-]+/g, '_')}.png`);
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  /** Screenshots of the open pages plus the collected logs, for a failed test. */
  async reportFailure(name: string): Promise<void> {
    for (const [i, p] of this.pages.entries()) {
      if (p.isClosed()) continue;
      try {
        console.error(`screenshot: ${await this.screenshot(p, `${name}-${i}`)}`);
      } catch {
        // a crashed page cannot be captured; its logs still print below
      }
    }
    console.error(this.logs.length > 0 ? `browser logs:\n${this.logs.join('\n')}` : 'browser logs: (none)');
  }

  async stop(): Promise<void> {
    await this.chromium?.close();
    this.chromium = null;
    await this.vite.close();
    rmSync(this.userDataDir, { recursive: true, force: true });
  }
}

/** Registers beforeAll/afterAll/afterEach hooks in the current describe and returns the (lazily set) browser. */
export function useBrowser(opts: BrowserOptions = {}): TestBrowser {
  let b: TestBrowser | null = null;
  beforeAll(async () => {
    b = await TestBrowser.start(opts);
  });
  afterEach(async (ctx) => {
    if (b !== null && ctx.task.result?.state === 'fail') await b.reportFailure(ctx.task.name);
  });
  afterAll(async () => {
    await b?.stop();
  });
  return new Proxy({} as TestBrowser, {
    get(_t, prop) {
      if (b === null) throw new Error('useBrowser(): the browser starts in beforeAll; use it inside tests');
      const v = Reflect.get(b, prop, b) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(b) : v;
    },
  });
}
