// The parts of tracking that need no server: request splitting within MLflow's limits, value encoding,
// the JSON-lines journal (torn writes, acks, compaction, reload) and the outbox's ordering, batching and
// backoff, driven by a sender that records what it is asked to send.

import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileOutboxStore } from '../../src/cli/file-outbox.ts';
import { base64ToBytes, bytesToBase64 } from '../../src/tracking/base64.ts';
import { chunkBatch, MlflowClient, MlflowError, proxiedArtifactPath, toMetricValue, truncateValue } from '../../src/tracking/mlflow-client.ts';
import type { TrackingOp } from '../../src/tracking/outbox.ts';
import { MemoryOutboxStore, Outbox } from '../../src/tracking/outbox.ts';
import { sanitizeKey } from '../../src/tracking/tracker.ts';
import { freePort, startSilentServer } from '../helpers/mlflow-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'tunelab-outbox-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function metricsOp(trialId: string | null, n: number, from = 0): TrackingOp {
  return {
    type: 'metrics',
    studyId: 's',
    experimentName: 'e',
    trialId,
    metrics: Array.from({ length: n }, (_, i) => ({ key: 'train_loss', value: i, step: from + i, timestamp: 1 })),
  };
}

describe('MLflow request shaping', () => {
  it('splits log-batch content within 1000 metrics, 100 params, 100 tags and 1000 entities per request', () => {
    const metrics = Array.from({ length: 2500 }, (_, i) => ({ key: 'm', value: i, step: i, timestamp: 0 }));
    const params = Array.from({ length: 150 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
    const tags = Array.from({ length: 120 }, (_, i) => ({ key: `t${i}`, value: 'v' }));
    const chunks = chunkBatch({ metrics, params, tags });
    for (const c of chunks) {
      expect(c.metrics.length).toBeLessThanOrEqual(1000);
      expect(c.params.length).toBeLessThanOrEqual(100);
      expect(c.tags.length).toBeLessThanOrEqual(100);
      expect(c.metrics.length + c.params.length + c.tags.length).toBeLessThanOrEqual(1000);
    }
    expect(chunks.flatMap((c) => c.metrics).map((m) => m.step)).toEqual(metrics.map((m) => m.step));
    expect(chunks.flatMap((c) => c.params)).toEqual(params);
    expect(chunks.flatMap((c) => c.tags)).toEqual(tags);
    expect(chunkBatch({})).toEqual([]);
  });

  it('encodes non-finite metrics as MLflow strings, truncates long values visibly, keeps keys relative', () => {
    expect([toMetricValue(1.5), toMetricValue(Number.NaN), toMetricValue(Infinity), toMetricValue(-Infinity)]).toEqual([1.5, 'NaN', 'Infinity', '-Infinity']);
    const t = truncateValue('x'.repeat(7000), 6000);
    expect(t).toHaveLength(6000);
    expect(t.endsWith('...[truncated]')).toBe(true);
    expect(truncateValue('short', 6000)).toBe('short');
    expect(sanitizeKey('../a//b?')).toBe('_/a/_/b_');
    expect(sanitizeKey('val_loss')).toBe('val_loss');
  });

  it('maps artifact URIs onto the artifact proxy and refuses stores the server does not proxy', () => {
    expect(proxiedArtifactPath('mlflow-artifacts:/1/abc/artifacts')).toEqual(['1', 'abc', 'artifacts']);
    expect(proxiedArtifactPath('mlflow-artifacts://host:5000/1/abc/artifacts')).toEqual(['1', 'abc', 'artifacts']);
    expect(() => proxiedArtifactPath('s3://bucket/1/abc/artifacts')).toThrow(/not served by the tracking server/);
  });

  it('base64 round-trips arbitrary bytes', () => {
    for (const n of [0, 1, 2, 3, 4, 255, 10_001]) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7919) & 255);
      expect(base64ToBytes(bytesToBase64(bytes))).toEqual(bytes);
    }
    expect(bytesToBase64(new TextEncoder().encode('user:pässword'))).toBe(Buffer.from('user:pässword').toString('base64'));
  });

  it('names the call and the server in errors: refused connections, timeouts and bad URLs', async () => {
    expect(() => new MlflowClient({ baseUrl: 'localhost:5000' })).toThrow(/must be an http\(s\) URL/);
    const closedPort = await freePort();
    const refused = new MlflowClient({ baseUrl: `http://127.0.0.1:${closedPort}` });
    const e1 = await refused.getExperimentByName('x').then(() => null, (e: unknown) => e);
    expect(e1).toBeInstanceOf(MlflowError);
    expect((e1 as MlflowError).message).toMatch(/GET experiments\/get-by-name: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect((e1 as MlflowError).retryable).toBe(true);
    const silent = await startSilentServer();
    try {
      const slow = new MlflowClient({ baseUrl: silent.url, timeoutMs: 200 });
      const t0 = performance.now();
      const e2 = await slow.createRun({ experimentId: '1', startTime: 0, tags: [] }).then(() => null, (e: unknown) => e);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect((e2 as MlflowError).kind).toBe('timeout');
      expect((e2 as MlflowError).message).toMatch(/POST runs\/create: no answer from .* within 200 ms/);
    } finally {
      await silent.close();
    }
  });
});

describe('FileOutboxStore', () => {
  it('persists appends and acks, skips a torn last line, compacts on reload', () => {
    const path = join(dir, 'journal.jsonl');
    const warnings: string[] = [];
    const a = new FileOutboxStore(path, { onWarning: (m) => warnings.push(m) });
    expect(a.load()).toEqual([]);
    for (let seq = 1; seq <= 5; seq++) a.append({ seq, enqueuedAt: seq, op: metricsOp('t', 1, seq) });
    a.ack([1, 2]);
    appendFileSync(path, '{"seq":6,"enqueuedAt":6,"op":{"type":"metr'); // a crash mid-write
    const b = new FileOutboxStore(path, { onWarning: (m) => warnings.push(m) });
    expect(b.load().map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/journal\.jsonl:7: .*torn last write/);
    // Reload rewrote the file with only the pending entries.
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
    b.ack([3, 4, 5]);
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(new FileOutboxStore(path).load()).toEqual([]);
  });

  it('reports a line with an unknown operation by file and line', () => {
    const path = join(dir, 'bad.jsonl');
    appendFileSync(path, '{"seq":1,"enqueuedAt":0,"op":{"type":"explode","studyId":"s","experimentName":"e"}}\n');
    const warnings: string[] = [];
    expect(new FileOutboxStore(path, { onWarning: (m) => warnings.push(m) }).load()).toEqual([]);
    expect(warnings[0]).toMatch(/bad\.jsonl:1: skipped a line that is neither an operation/);
  });
});

describe('Outbox', () => {
  it('delivers in order, merges consecutive metrics of one run (with its end) into one request, retries with backoff', async () => {
    const sent: TrackingOp[] = [];
    let failuresLeft = 2;
    const errors: boolean[] = [];
    const outbox = await Outbox.open({
      store: new MemoryOutboxStore(),
      lingerMs: 50,
      baseDelayMs: 20,
      maxDelayMs: 40,
      onError: (_e, info) => errors.push(info.willRetry),
      send: (op) => {
        if (op.type === 'start-trial' && failuresLeft-- > 0) {
          return Promise.reject(new MlflowError('down', 'POST runs/create', 'network', null, null, true));
        }
        sent.push(op);
        return Promise.resolve();
      },
    });
    outbox.enqueue({ type: 'start-trial', studyId: 's', experimentName: 'e', trialId: 't', runName: 'trial-0', startTime: 0, params: [], tags: [] });
    for (let i = 0; i < 4; i++) outbox.enqueue(metricsOp('t', 300, i * 300));
    outbox.enqueue({ type: 'end-run', studyId: 's', experimentName: 'e', trialId: 't', status: 'FINISHED', endTime: 1, tags: [{ key: 'tunelab.state', value: 'complete' }] });
    outbox.enqueue(metricsOp(null, 2));
    const r = await outbox.close(5000);
    expect(r.drained).toBe(true);
    expect(errors).toEqual([true, true]);
    expect(sent.map((o) => o.type)).toEqual(['start-trial', 'metrics', 'end-run', 'metrics']);
    // 1200 metrics: 900 in the first request (a fourth 300 would pass 1000), 300 ride with the end-run.
    const counts = sent.map((o) => (o.type === 'metrics' || o.type === 'end-run' ? (o.metrics?.length ?? 0) : 0));
    expect(counts).toEqual([0, 900, 300, 2]);
    expect(r.delivered).toBe(7);
  });

  it('drops an operation after a permanent error and goes on', async () => {
    const sent: TrackingOp[] = [];
    const outbox = await Outbox.open({
      store: new MemoryOutboxStore(),
      lingerMs: 0,
      send: (op) => {
        if (op.type === 'artifact') return Promise.reject(new MlflowError('bad', 'PUT', 'http', 400, 'INVALID_PARAMETER_VALUE', false));
        sent.push(op);
        return Promise.resolve();
      },
    });
    outbox.enqueue({ type: 'artifact', studyId: 's', experimentName: 'e', trialId: null, path: 'x', contentType: 'text/plain', data: { base64: '' } });
    outbox.enqueue(metricsOp(null, 1));
    const r = await outbox.close(2000);
    expect(r).toMatchObject({ drained: true, dropped: 1, delivered: 1 });
    expect(sent).toHaveLength(1);
  });
});
