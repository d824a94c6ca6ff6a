// A real MLflow tracking server for tests: `python3 -m mlflow server` on 127.0.0.1 with a SQLite store
// and proxied artifacts in a temp folder. It can be stopped and started again on the same port and
// store (outage tests). Also: a TCP listener that accepts and never answers, and an HTTP proxy that
// forwards to the server but drops chosen responses (the request is applied, the client never hears).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PYTHON = process.env['TUNELAB_PYTHON'] ?? 'python3';

export interface MlflowServer {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** Stops the server process group (SIGTERM, then SIGKILL after 10 s); the store stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store; resolves once /health answers. */
  start(): Promise<void>;
  /** Stops it and removes the temp folder. */
  dispose(): Promise<void>;
  /** The server's recent output, for failure messages. */
  log(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails with a clear message when the mlflow package is missing (CI installs it: pip install mlflow). */
export function checkMlflowInstalled(): string {
  const r = spawnSync(PYTHON, ['-c', 'import mlflow, sys; sys.stdout.write(mlflow.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`MLflow is not installed for ${PYTHON} (needed by the tracking tests): run \`pip install mlflow\`. ${r.stderr.slice(-300)}`);
  }
  return r.stdout.trim();
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of live) if (p.pid !== undefined) killGroup(p.pid, 'SIGKILL');
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

export async function startMlflowServer(options: { startTimeoutMs?: number } = {}): Promise<MlflowServer> {
  checkMlflowInstalled();
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-mlflow-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    '-m', 'mlflow', 'server',
    '--host', '127.0.0.1',
    '--port', String(port),
    '--backend-store-uri', `sqlite:///${join(dir, 'mlflow.db')}`,
    '--artifacts-destination', join(dir, 'artifacts'),
    '--workers', '1',
  ];
  let proc: ChildProcess | null = null;
  let output = '';

  const start = async (): Promise<void> => {
    const child = spawn(PYTHON, args, {
      cwd: dir,
      detached: true, // own process group: stop() reaches uvicorn and the job runner too
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' },
    });
    proc = child;
    live.add(child);
    const collect = (b: Buffer): void => {
      output = (output + b.toString()).slice(-8000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const state: { exited: number | null } = { exited: null };
    child.once('exit', (code) => {
      state.exited = code ?? -1;
      live.delete(child);
    });
    const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
    for (;;) {
      if (state.exited !== null) throw new Error(`mlflow server exited with ${state.exited} before answering /health:\n${output}`);
      try {
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
        if (res.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`mlflow server on ${url} did not answer /health in time:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };

  const stop = async (): Promise<void> => {
    const child = proc;
    proc = null;
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const pid = child.pid;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(pid, 'SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
    // Workers of the group may outlive the parent by a moment; make sure none still holds the port.
    killGroup(pid, 'SIGKILL');
  };

  await start();
  return {
    url,
    port,
    dir,
    stop,
    start,
    log: () => output,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP listener that accepts connections and never answers: requests to it hang until timeout. */
export async function startSilentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        srv.close(() => resolve());
      }),
  };
}

/**
 * Forwards every request to `target`; when `drop(method, path)` says so, waits for the upstream answer
 * (so the server has applied the request) and then cuts the client's connection without replying.
 */
export async function startDroppingProxy(
  target: string,
  drop: (method: string, path: string) => boolean,
): Promise<{ url: string; dropped: () => number; close(): Promise<void> }> {
  const upstream = new URL(target);
  let dropped = 0;
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const up = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
        (upRes) => {
          const upChunks: Buffer[] = [];
          upRes.on('data', (c: Buffer) => upChunks.push(c));
          upRes.on('end', () => {
            if (drop(req.method ?? 'GET', req.url ?? '/')) {
              dropped++;
              req.socket.destroy();
              return;
            }
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            res.end(Buffer.concat(upChunks));
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}
