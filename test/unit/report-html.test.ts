// The study report without a GPU: a study driven by hand (ask/report/tell), summaries as the runner writes them;
// checks the JSON content, the edge-of-space warning (log space for log parameters), that the HTML is
// self-contained with the required sections, and that study text is escaped.
import { describe, expect, it } from 'vitest';
import type { TrialSummary } from '../../src/coord/study-runner.ts';
import { buildReport, edgeWarnings, rangePosition, reportToJson } from '../../src/export/report.ts';
import { esc, renderReportHtml } from '../../src/export/report-html.ts';
import { parseSearchSpace } from '../../src/search/space.ts';
import { Study } from '../../src/search/study.ts';

const EVIL = '<img src=x onerror="alert(1)">';
const SPACE = {
  learning_rate: { type: 'loguniform', low: 1e-5, high: 1e-3 },
  batch_size: { type: 'categorical', choices: [16, 32] },
  warmup_ratio: { type: 'uniform', low: 0, high: 0.2 },
  tag: { type: 'categorical', choices: ['plain', EVIL] },
};

function summary(id: number, params: Record<string, number | string>, status: TrialSummary['status'], value: number | null, steps: number, total: number): TrialSummary {
  const evals = [1, 2].slice(0, Math.max(1, Math.round((steps / total) * 2))).map((k) => ({ step: (k * total) / 2, epoch: k / 2, valLoss: 0.7 - 0.05 * k, valAccuracy: (value ?? 0.5) - 0.02 * (2 - k) }));
  return {
    trialId: id, attempt: 1, params, status, value, bestValAccuracy: value, valLoss: 0.6, steps, totalSteps: total, samplesPerSecond: 10, seconds: 3,
    microBatch: 16, accumulation: 1, backoffs: [], evals: status === 'failed' ? [] : evals, trainLoss: [{ step: 1, loss: 0.7 }, { step: steps, loss: 0.6 }], executor: 'gpu0',
    ...(status === 'failed' ? { failureReason: 'diverged' as const, message: `loss exploded ${EVIL}` } : {}),
  };
}

function makeStudy(): { study: Study; summaries: TrialSummary[] } {
  const study = Study.create({ name: `study ${EVIL}`, space: SPACE, allowUnknownParameters: true, sampler: { kind: 'random', seed: 1 }, pruner: { kind: 'none' }, budget: { maxTrials: 4 } });
  study.enqueue({ learning_rate: 8e-4, batch_size: 16, warmup_ratio: 0.1, tag: EVIL });
  study.enqueue({ learning_rate: 1e-4, batch_size: 32, warmup_ratio: 0.1, tag: 'plain' });
  study.enqueue({ learning_rate: 5e-5, batch_size: 16, warmup_ratio: 0.05, tag: 'plain' });
  study.enqueue({ learning_rate: 2e-5, batch_size: 32, warmup_ratio: 0.15, tag: 'plain' });
  const summaries: TrialSummary[] = [];
  const plan: [TrialSummary['status'], number | null][] = [['complete', 0.81], ['complete', 0.74], ['failed', null], ['pruned', 0.55]];
  plan.forEach(([status, value]) => {
    const req = study.ask()!;
    const steps = status === 'pruned' ? 5 : 10;
    if (value !== null) study.reportIntermediate(req.trialId, 1, value - 0.02);
    if (status === 'complete') study.tell(req.trialId, { state: 'complete', value: value! });
    else if (status === 'pruned') study.tell(req.trialId, { state: 'pruned' });
    else study.tell(req.trialId, { state: 'failed', reason: 'diverged', message: `loss exploded ${EVIL}` });
    summaries.push(summary(req.trialId, req.params as Record<string, number | string>, status, status === 'pruned' ? value! - 0.02 : value, steps, 10));
  });
  return { study, summaries };
}

describe('study report', () => {
  it('reports trials, the best, pruning savings and the final model', () => {
    const { study, summaries } = makeStudy();
    const report = buildReport(study.state, summaries, { final: { mode: 'kept', trialNumber: 0, testAccuracy: 0.8, testLoss: 0.5, testRows: 100, path: '/x/best-model' } });
    expect(report.trials.map((t) => t.status)).toEqual(['complete', 'complete', 'failed', 'pruned']);
    expect(report.best?.number).toBe(0);
    expect(report.trials[2]).toMatchObject({ reason: 'diverged', value: null });
    expect(report.counts).toMatchObject({ complete: 2, failed: 1, pruned: 1 });
    expect(report.steps).toEqual({ trained: 35, savedByPruning: 5 });
    const json = JSON.parse(reportToJson(report)) as { format: string; final: { testAccuracy: number } };
    expect(json.format).toBe('tunelab-study-report');
    expect(json.final.testAccuracy).toBe(0.8);
  });

  it('warns when the best value is within 5% of a bound, measured in log space for log parameters', () => {
    const params = parseSearchSpace(SPACE, 'test', { allowUnknown: true }).parameters;
    const lr = params[0]!;
    // 8e-4 in [1e-5, 1e-3]: 80% of the linear range, 95.2% of the log range
    expect(rangePosition(lr, 8e-4)!.position).toBeCloseTo(Math.log(80) / Math.log(100), 9);
    const w = edgeWarnings(params, { learning_rate: 8e-4, batch_size: 32, warmup_ratio: 0.1, tag: 'plain' });
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ parameter: 'learning_rate', bound: 'high', boundValue: 1e-3, logScale: true });
    expect(w[0]!.message).toMatch(/upper bound/);
    expect(edgeWarnings(params, { learning_rate: 1e-4, batch_size: 32, warmup_ratio: 0.1, tag: 'plain' })).toEqual([]);
    const low = edgeWarnings(params, { learning_rate: 1e-4, batch_size: 16, warmup_ratio: 0.005, tag: 'plain' });
    expect(low.map((x) => [x.parameter, x.bound, x.logScale])).toEqual([['warmup_ratio', 'low', false]]);
  });

  it('renders a self-contained page with every section, escaping study text', () => {
    const { study, summaries } = makeStudy();
    const html = renderReportHtml(buildReport(study.state, summaries, { dataset: { source: `/data/${EVIL}` } }));
    for (const id of ['summary', 'warnings', 'history', 'parameters', 'parallel', 'curves', 'trials']) expect(html).toContain(`<section id="${id}">`);
    expect(html).toContain('edge-warning');
    expect((html.match(/<svg /g) ?? []).length).toBeGreaterThanOrEqual(1 + 4 + 1 + 2);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toContain(EVIL);
    expect(html).not.toMatch(/<img/i);
    expect(html).toContain(esc(EVIL));
    // failed trials are drawn (as crosses) in the history
    expect(html).toContain('class="pt failed"');
  });
});

describe('model download archive', () => {
  it('packs the folder files under a safe folder name, readable back with parseTar', async () => {
    const { modelFolderTar, safeFolderName } = await import('../../src/export/model-archive.ts');
    const { parseTar } = await import('nanotar');
    const files = new Map([['config.json', new TextEncoder().encode('{"a":1}')], ['model.safetensors', new Uint8Array([1, 2, 3, 4, 5])]]);
    expect(safeFolderName('../my model<1>')).toBe('my-model-1');
    const tar = modelFolderTar(files, 'best model');
    const back = parseTar(tar);
    expect(back.map((f) => f.name)).toEqual(['best-model/config.json', 'best-model/model.safetensors']);
    expect(Array.from(back[1]!.data!)).toEqual([1, 2, 3, 4, 5]);
  });
});
