// The study report as one self-contained HTML page: inline CSS and inline SVG charts, no scripts, no external
// resources (it opens from a file, an MLflow artifact view or an e-mail). Sections (ids): summary, warnings, history
// (optimisation history), parameters (each parameter against the metric), parallel (parallel coordinates), curves
// (the top trials' validation and training curves), trials (the table). Every piece of text that comes from the
// study (names, parameter values, messages, dataset and model descriptions) goes through esc().
import type { ParamSpec } from '../search/space.ts';
import { fmtValue, type ReportTrial, type StudyReport } from './report.ts';

/** HTML-escapes text for element content and quoted attribute values. */
export function esc(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const W = 560, H = 300;
const M = { left: 64, right: 16, top: 24, bottom: 44 };
const STATUS_COLOR: Record<string, string> = { complete: '#2563eb', pruned: '#f59e0b', failed: '#dc2626', stopped: '#6b7280', running: '#6b7280', pending: '#6b7280' };
const LINE_COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be123c'];

type ScaleKind = 'linear' | 'log' | 'band';

interface Scale {
  kind: ScaleKind;
  map(v: number | string): number;
  ticks: { at: number; label: string }[];
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function linearScale(lo: number, hi: number, from: number, to: number): Scale {
  if (!(hi > lo)) { const pad = Math.abs(lo) * 0.05 || 0.5; lo -= pad; hi += pad; }
  const map = (v: number | string): number => from + ((Number(v) - lo) / (hi - lo)) * (to - from);
  return { kind: 'linear', map, ticks: niceTicks(lo, hi).map((t) => ({ at: map(t), label: fmtValue(t) })) };
}

function logScale(lo: number, hi: number, from: number, to: number): Scale {
  if (!(hi > lo)) { lo /= 2; hi *= 2; }
  const a = Math.log10(lo), b = Math.log10(hi);
  const map = (v: number | string): number => from + ((Math.log10(Number(v)) - a) / (b - a)) * (to - from);
  const ticks: { at: number; label: string }[] = [];
  for (let e = Math.ceil(a); e <= Math.floor(b); e++) ticks.push({ at: map(10 ** e), label: `1e${e}` });
  if (ticks.length < 2) { ticks.push({ at: map(lo), label: fmtValue(lo) }, { at: map(hi), label: fmtValue(hi) }); }
  return { kind: 'log', map, ticks };
}

function bandScale(values: readonly string[], from: number, to: number): Scale {
  const n = Math.max(1, values.length);
  const map = (v: number | string): number => from + ((values.indexOf(String(v)) + 0.5) / n) * (to - from);
  return { kind: 'band', map, ticks: values.map((v) => ({ at: map(v), label: v })) };
}

function scaleForSpec(spec: ParamSpec | undefined, values: readonly (number | string | boolean)[], from: number, to: number): Scale {
  if (spec?.type === 'categorical') return bandScale(spec.choices.map(String), from, to);
  const nums = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (spec?.type === 'loguniform') return logScale(spec.low, spec.high, from, to);
  if (spec?.type === 'uniform' || spec?.type === 'int') return linearScale(spec.low, spec.high, from, to);
  if (nums.length === values.length && nums.length > 0) return linearScale(Math.min(...nums), Math.max(...nums), from, to);
  return bandScale([...new Set(values.map(String))], from, to);
}

function axes(x: Scale, y: Scale, xLabel: string, yLabel: string): string {
  const x0 = M.left, x1 = W - M.right, y0 = H - M.bottom, y1 = M.top;
  let s = `<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" class="ax"/><line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" class="ax"/>`;
  for (const t of x.ticks) s += `<line x1="${t.at.toFixed(1)}" y1="${y0}" x2="${t.at.toFixed(1)}" y2="${y0 + 4}" class="ax"/><text x="${t.at.toFixed(1)}" y="${y0 + 16}" text-anchor="middle">${esc(t.label)}</text>`;
  for (const t of y.ticks) s += `<line x1="${x0 - 4}" y1="${t.at.toFixed(1)}" x2="${x1}" y2="${t.at.toFixed(1)}" class="grid"/><text x="${x0 - 6}" y="${(t.at + 4).toFixed(1)}" text-anchor="end">${esc(t.label)}</text>`;
  s += `<text x="${(x0 + x1) / 2}" y="${H - 6}" text-anchor="middle" class="lbl">${esc(xLabel)}</text>`;
  s += `<text x="14" y="${(y0 + y1) / 2}" text-anchor="middle" class="lbl" transform="rotate(-90 14 ${(y0 + y1) / 2})">${esc(yLabel)}</text>`;
  return s;
}

function svg(title: string, body: string, width = W, height = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${body}</svg>`;
}

function marker(x: number, y: number, status: string, title: string): string {
  const c = STATUS_COLOR[status] ?? '#6b7280';
  const t = `<title>${esc(title)}</title>`;
  if (status === 'failed') return `<g class="pt failed"><path d="M${x - 4} ${y - 4}L${x + 4} ${y + 4}M${x - 4} ${y + 4}L${x + 4} ${y - 4}" stroke="${c}" stroke-width="2"/>${t}</g>`;
  return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${c}" fill-opacity="${status === 'complete' ? 0.9 : 0.5}" class="pt ${esc(status)}">${t}</circle>`;
}

function trialTitle(t: ReportTrial): string {
  const params = Object.entries(t.params).map(([k, v]) => `${k}=${fmtValue(v)}`).join(', ');
  return `trial ${t.number} (${t.status}${t.reason && t.status !== 'pruned' ? `: ${t.reason}` : ''}) value ${fmtValue(t.value)}; ${params}`;
}

function valueRange(trials: readonly ReportTrial[]): [number, number] {
  const vs = trials.map((t) => t.value).filter((v): v is number => v !== null);
  if (vs.length === 0) return [0, 1];
  return [Math.min(...vs), Math.max(...vs)];
}

function historyChart(r: StudyReport): string {
  const trials = r.trials;
  const [lo, hi] = valueRange(trials);
  const pad = (hi - lo) * 0.08 || 0.02;
  const x = linearScale(0, Math.max(1, trials.length - 1), M.left + 10, W - M.right - 10);
  const y = linearScale(lo - pad, hi + pad, H - M.bottom, M.top);
  let body = axes(x, y, 'trial', r.study.metric);
  let best: number | undefined;
  const bestLine: string[] = [];
  for (const t of trials) {
    if (t.status === 'complete' && t.value !== null && (best === undefined || (r.study.direction === 'maximize' ? t.value > best : t.value < best))) best = t.value;
    if (best !== undefined) bestLine.push(`${x.map(t.number).toFixed(1)},${y.map(best).toFixed(1)}`);
  }
  if (bestLine.length > 0) body += `<polyline points="${bestLine.join(' ')}" fill="none" stroke="#16a34a" stroke-width="1.5" class="best-line"><title>best so far</title></polyline>`;
  for (const t of trials) {
    const yy = t.value !== null ? y.map(t.value) : H - M.bottom - 6;
    body += marker(x.map(t.number), yy, t.status, trialTitle(t));
  }
  return svg('optimisation history', body);
}

function paramChart(r: StudyReport, spec: ParamSpec): string {
  const trials = r.trials.filter((t) => t.params[spec.name] !== undefined);
  const [lo, hi] = valueRange(trials);
  const pad = (hi - lo) * 0.08 || 0.02;
  const x = scaleForSpec(spec, trials.map((t) => t.params[spec.name]!), M.left + 10, W - M.right - 10);
  const y = linearScale(lo - pad, hi + pad, H - M.bottom, M.top);
  let body = axes(x, y, `${spec.name}${spec.type === 'loguniform' ? ' (log scale)' : ''}`, r.study.metric);
  for (const t of trials) {
    const v = t.params[spec.name]!;
    const xx = x.kind === 'band' ? x.map(String(v)) : x.map(Number(v));
    if (!Number.isFinite(xx)) continue;
    const yy = t.value !== null ? y.map(t.value) : H - M.bottom - 6;
    body += marker(xx, yy, t.status, trialTitle(t));
  }
  return svg(`${spec.name} against ${r.study.metric}`, body);
}

function colorFor(f: number): string {
  // light yellow (worst) -> dark blue (best)
  const a = [250, 204, 21], b = [30, 64, 175];
  const c = a.map((v, i) => Math.round(v + (b[i]! - v) * Math.min(1, Math.max(0, f))));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

function parallelChart(r: StudyReport): string {
  const specs = r.parameters.filter((p) => p.type !== 'fixed');
  const width = Math.max(W, 120 * (specs.length + 1));
  const top = M.top + 10, bottom = H - 30;
  const n = specs.length + 1;
  const xAt = (i: number): number => 60 + (i * (width - 120)) / Math.max(1, n - 1);
  const trials = r.trials.filter((t) => t.status === 'complete' || t.status === 'pruned');
  const scales = specs.map((s) => scaleForSpec(s, r.trials.map((t) => t.params[s.name]).filter((v) => v !== undefined), bottom, top));
  const [lo, hi] = valueRange(trials);
  const vScale = linearScale(lo, hi, bottom, top);
  let body = '';
  const ordered = [...trials].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
  if (r.study.direction === 'minimize') ordered.reverse();
  for (const t of ordered) {
    const pts: string[] = [];
    specs.forEach((s, i) => {
      const v = t.params[s.name];
      const sc = scales[i]!;
      if (v === undefined) return;
      const yy = sc.kind === 'band' ? sc.map(String(v)) : sc.map(Number(v));
      if (Number.isFinite(yy)) pts.push(`${xAt(i).toFixed(1)},${yy.toFixed(1)}`);
    });
    if (t.value !== null) pts.push(`${xAt(n - 1).toFixed(1)},${vScale.map(t.value).toFixed(1)}`);
    const f = hi > lo && t.value !== null ? (r.study.direction === 'maximize' ? (t.value - lo) / (hi - lo) : (hi - t.value) / (hi - lo)) : 1;
    body += `<polyline points="${pts.join(' ')}" fill="none" stroke="${colorFor(f)}" stroke-width="${t.status === 'complete' ? 2 : 1}" stroke-opacity="${t.status === 'complete' ? 0.85 : 0.4}"${t.status === 'pruned' ? ' stroke-dasharray="4 3"' : ''} class="pc-line"><title>${esc(trialTitle(t))}</title></polyline>`;
  }
  const allScales = [...scales, vScale];
  allScales.forEach((sc, i) => {
    const x = xAt(i);
    const name = i < specs.length ? `${specs[i]!.name}${specs[i]!.type === 'loguniform' ? ' (log)' : ''}` : r.study.metric;
    body += `<line x1="${x}" y1="${top}" x2="${x}" y2="${bottom}" class="ax"/><text x="${x}" y="${bottom + 18}" text-anchor="middle" class="lbl">${esc(name)}</text>`;
    for (const t of sc.ticks) body += `<text x="${x - 5}" y="${(t.at + 4).toFixed(1)}" text-anchor="end" class="tick">${esc(t.label)}</text>`;
  });
  return svg('parallel coordinates', body, width, H);
}

function curveChart(r: StudyReport, top: readonly ReportTrial[], which: 'val' | 'train'): string {
  const series = top.map((t) => which === 'val'
    ? t.evals.filter((e) => e.valAccuracy !== null).map((e) => ({ x: Number.isFinite(e.epoch) ? e.epoch : e.step, y: e.valAccuracy! }))
    : t.trainLoss.filter((p) => p.loss !== null).map((p) => ({ x: p.step, y: p.loss! })));
  const xs = series.flat().map((p) => p.x), ys = series.flat().map((p) => p.y);
  if (xs.length === 0) return '<p class="muted">No curves recorded.</p>';
  const x = linearScale(Math.min(0, ...xs), Math.max(...xs), M.left + 10, W - M.right - 10);
  const pad = (Math.max(...ys) - Math.min(...ys)) * 0.08 || 0.02;
  const y = linearScale(Math.min(...ys) - pad, Math.max(...ys) + pad, H - M.bottom, M.top);
  const evalX = top.some((t) => t.evals.some((e) => Number.isFinite(e.epoch)));
  let body = axes(x, y, which === 'val' ? (evalX ? 'epoch' : 'step') : 'step', which === 'val' ? 'validation accuracy' : 'training loss');
  series.forEach((pts, i) => {
    const color = LINE_COLORS[i % LINE_COLORS.length]!;
    const t = top[i]!;
    body += `<polyline points="${pts.map((p) => `${x.map(p.x).toFixed(1)},${y.map(p.y).toFixed(1)}`).join(' ')}" fill="none" stroke="${color}" stroke-width="2" class="curve"><title>${esc(trialTitle(t))}</title></polyline>`;
    for (const p of which === 'val' ? pts : []) body += `<circle cx="${x.map(p.x).toFixed(1)}" cy="${y.map(p.y).toFixed(1)}" r="3" fill="${color}"/>`;
  });
  top.forEach((t, i) => {
    body += `<rect x="${W - M.right - 110}" y="${M.top + 4 + i * 14}" width="10" height="10" fill="${LINE_COLORS[i % LINE_COLORS.length]}"/><text x="${W - M.right - 96}" y="${M.top + 13 + i * 14}">trial ${t.number}</text>`;
  });
  return svg(which === 'val' ? 'validation accuracy of the top trials' : 'training loss of the top trials', body);
}

function kv(obj: Readonly<Record<string, unknown>> | null): string {
  if (!obj) return '';
  return Object.entries(obj).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(typeof v === 'object' ? JSON.stringify(v) : fmtValue(v as number | string | boolean))}</td></tr>`).join('');
}

function trialsTable(r: StudyReport): string {
  const names = r.parameters.filter((p) => p.type !== 'fixed').map((p) => p.name);
  const head = `<tr><th>#</th><th>status</th><th>reason</th>${names.map((n) => `<th>${esc(n)}</th>`).join('')}<th>${esc(r.study.metric)}</th><th>best val acc</th><th>steps</th><th>seconds</th></tr>`;
  const rows = r.trials.map((t) => `<tr class="${esc(t.status)}${r.best?.number === t.number ? ' best' : ''}"><td>${t.number}</td><td>${esc(t.status)}</td><td title="${esc(t.message ?? '')}">${esc(t.reason ?? '')}${t.message ? `: ${esc(t.message)}` : ''}</td>${names.map((n) => `<td>${esc(fmtValue(t.params[n]))}</td>`).join('')}<td>${esc(fmtValue(t.value))}</td><td>${esc(fmtValue(t.bestValAccuracy))}</td><td>${t.steps ?? '-'}${t.totalSteps !== null && t.steps !== t.totalSteps ? ` / ${t.totalSteps}` : ''}</td><td>${t.seconds !== null ? t.seconds.toFixed(1) : '-'}</td></tr>`).join('');
  return `<table class="trials">${head}${rows}</table>`;
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#111}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}table{border-collapse:collapse}
td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left;vertical-align:top}tr.best{background:#ecfdf5}
tr.failed td:nth-child(2){color:#dc2626}tr.pruned td:nth-child(2){color:#b45309}.warn{background:#fff7ed;border:1px solid #fdba74;padding:8px 12px;margin:6px 0}
.grid-charts{display:flex;flex-wrap:wrap;gap:12px}svg{background:#fff;border:1px solid #eee}svg text{font-size:11px;fill:#333}
svg .lbl{font-size:12px;fill:#111}.ax{stroke:#555}.grid{stroke:#eee}.muted{color:#666}.legend span{margin-right:14px}`;

/** The whole page. */
export function renderReportHtml(r: StudyReport): string {
  const top = r.trials.filter((t) => t.status === 'complete' && t.value !== null)
    .sort((a, b) => (r.study.direction === 'maximize' ? (b.value ?? 0) - (a.value ?? 0) : (a.value ?? 0) - (b.value ?? 0))).slice(0, 5);
  const numericOrCat = r.parameters.filter((p) => p.type !== 'fixed');
  const final = r.final;
  const summary: Record<string, unknown> = {
    study: r.study.name, metric: `${r.study.metric} (${r.study.direction})`, trials: r.trials.length,
    complete: r.counts.complete, pruned: r.counts.pruned, failed: r.counts.failed, stopped: r.counts.stopped,
    'best trial': r.best ? `#${r.best.number}: ${fmtValue(r.best.value)}` : 'none',
    'best parameters': r.best ? Object.entries(r.best.params).map(([k, v]) => `${k}=${fmtValue(v)}`).join(', ') : '-',
    'final model': final ? `${final.mode} (trial #${final.trialNumber}), test accuracy ${fmtValue(final.testAccuracy)} on ${final.testRows} rows${final.path ? `, saved to ${final.path}` : ''}` : 'none',
    'steps trained': r.steps.trained, 'steps saved by pruning': r.steps.savedByPruning,
    sampler: r.study.sampler, pruner: r.study.pruner, budget: r.study.budget, 'elapsed seconds': Number(r.study.elapsedSeconds.toFixed(1)),
    created: r.study.createdAt, generated: r.generatedAt,
  };
  const warnings = r.edgeWarnings.length > 0 ? r.edgeWarnings.map((w) => `<div class="warn edge-warning">Warning: ${esc(w.message)}</div>`).join('') : '<p class="muted">No best value sits at the edge of the search space.</p>';
  const legend = `<p class="legend">${Object.entries({ complete: 'complete', pruned: 'pruned', failed: 'failed (x, drawn at the bottom)' }).map(([k, v]) => `<span style="color:${STATUS_COLOR[k]}">&#9679; ${esc(v)}</span>`).join('')}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>TuneLab study report: ${esc(r.study.name)}</title><style>${CSS}</style></head>
<body>
<h1>TuneLab study report: ${esc(r.study.name)}</h1>
<section id="summary"><h2>Summary</h2><table>${kv(summary)}</table>
${r.model ? `<h3>Model</h3><table>${kv(r.model)}</table>` : ''}${r.dataset ? `<h3>Dataset</h3><table>${kv(r.dataset)}</table>` : ''}${r.settings ? `<h3>Settings</h3><table>${kv(r.settings)}</table>` : ''}</section>
<section id="warnings"><h2>Warnings</h2>${warnings}</section>
<section id="history"><h2>Optimisation history</h2>${legend}${historyChart(r)}</section>
<section id="parameters"><h2>Each parameter against ${esc(r.study.metric)}</h2><div class="grid-charts">${numericOrCat.map((p) => `<figure><figcaption>${esc(p.name)}</figcaption>${paramChart(r, p)}</figure>`).join('')}</div></section>
<section id="parallel"><h2>Parallel coordinates</h2><p class="muted">One line per complete (solid) or pruned (dashed) trial; darker is better.</p>${parallelChart(r)}</section>
<section id="curves"><h2>Curves of the top trials</h2><div class="grid-charts"><figure><figcaption>Validation accuracy</figcaption>${curveChart(r, top, 'val')}</figure><figure><figcaption>Training loss</figcaption>${curveChart(r, top, 'train')}</figure></div></section>
<section id="trials"><h2>All trials</h2>${trialsTable(r)}</section>
</body></html>
`;
}
