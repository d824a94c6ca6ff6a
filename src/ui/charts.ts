// echarts options built from the trials: training loss and validation accuracy per trial, the optimisation history
// (each trial's accuracy and the best so far), each parameter against accuracy, and parallel coordinates.
// Pure functions of the data, so the page rebuilds them on every change and tl-chart throttles the drawing.
import type { LiveTrial } from '../app/lab-controller.ts';
import type { ParamSpec } from '../search/space.ts';
import type { ChartOption } from './tl-chart.ts';
import { fmtParam } from './format.ts';
import { SERIES_COLORS, STATUS_COLORS } from './styles.ts';

const GRID = { left: 48, right: 16, top: 36, bottom: 34 };
const TITLE = (text: string): object => ({ text, left: 8, top: 4, textStyle: { fontSize: 13, fontWeight: 600, color: '#334155' } });
const AXIS = { axisLabel: { color: '#64748b', fontSize: 11 }, axisLine: { lineStyle: { color: '#cbd5e1' } }, splitLine: { lineStyle: { color: '#eef0f4' } } };

function color(id: number): string {
  return SERIES_COLORS[id % SERIES_COLORS.length] ?? '#2f6fdb';
}

function accuracyOf(t: LiveTrial): number | null {
  return t.value ?? t.evals.at(-1)?.valAccuracy ?? null;
}

/** Training loss against step, one line per trial. */
export function lossOption(trials: readonly LiveTrial[]): ChartOption {
  return {
    title: TITLE('Training loss'), animation: false, grid: GRID, tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'step', nameLocation: 'end', nameGap: 4, ...AXIS },
    yAxis: { type: 'value', scale: true, ...AXIS },
    series: trials.filter((t) => t.losses.length > 0).map((t) => ({
      name: `trial ${t.id}`, type: 'line', showSymbol: false, lineStyle: { width: 1.6 }, color: color(t.id),
      data: t.losses.filter((p) => Number.isFinite(p.loss)).map((p) => [p.step, p.loss]),
    })),
  };
}

/** Validation accuracy at each evaluation, one line per trial. */
export function accuracyOption(trials: readonly LiveTrial[]): ChartOption {
  return {
    title: TITLE('Validation accuracy'), animation: false, grid: GRID, tooltip: { trigger: 'axis' },
    xAxis: { type: 'value', name: 'step', nameLocation: 'end', nameGap: 4, ...AXIS },
    yAxis: { type: 'value', min: 0, max: 1, ...AXIS },
    series: trials.filter((t) => t.evals.length > 0).map((t) => ({
      name: `trial ${t.id}`, type: 'line', symbolSize: 5, color: color(t.id),
      data: t.evals.filter((e) => Number.isFinite(e.valAccuracy)).map((e) => [e.step, e.valAccuracy]),
    })),
  };
}

/** Each finished trial's accuracy by trial number, and the best so far. */
export function historyOption(trials: readonly LiveTrial[]): ChartOption {
  const done = trials.filter((t) => (t.status === 'complete' || t.status === 'pruned') && accuracyOf(t) !== null);
  let best = -Infinity;
  const bestLine: [number, number][] = [];
  for (const t of [...trials].sort((a, b) => a.id - b.id)) {
    if (t.status === 'complete' && t.value !== null) best = Math.max(best, t.value);
    if (Number.isFinite(best)) bestLine.push([t.id, best]);
  }
  return {
    title: TITLE('Optimisation history'), animation: false, grid: GRID, tooltip: { trigger: 'item' },
    legend: { right: 8, top: 4, textStyle: { fontSize: 11 }, itemWidth: 14 },
    xAxis: { type: 'value', name: 'trial', minInterval: 1, nameLocation: 'end', nameGap: 4, ...AXIS },
    yAxis: { type: 'value', min: 0, max: 1, ...AXIS },
    series: [
      { name: 'trial', type: 'scatter', symbolSize: 9, data: done.map((t) => ({ value: [t.id, accuracyOf(t)], itemStyle: { color: STATUS_COLORS[t.status] } })) },
      { name: 'best so far', type: 'line', step: 'end', showSymbol: false, color: '#1e8e5a', data: bestLine },
    ],
  };
}

/** One parameter against accuracy (log axis for log-scaled parameters). */
export function paramOption(spec: ParamSpec, trials: readonly LiveTrial[]): ChartOption {
  const done = trials.filter((t) => (t.status === 'complete' || t.status === 'pruned') && accuracyOf(t) !== null);
  const log = spec.type === 'loguniform';
  const categorical = spec.type === 'categorical';
  const xAxis = categorical
    ? { type: 'category', data: spec.choices.map((c) => String(c)), ...AXIS }
    : { type: log ? 'log' : 'value', scale: true, ...AXIS, axisLabel: { ...AXIS.axisLabel, formatter: (v: number) => fmtParam(v) } };
  return {
    title: TITLE(spec.name), animation: false, grid: GRID, tooltip: { trigger: 'item' },
    xAxis, yAxis: { type: 'value', min: 0, max: 1, ...AXIS },
    series: [{ type: 'scatter', symbolSize: 9, data: done.map((t) => ({ value: [categorical ? String(t.params[spec.name]) : t.params[spec.name], accuracyOf(t)], itemStyle: { color: STATUS_COLORS[t.status] } })) }],
  };
}

/** Parallel coordinates: every searched parameter and the accuracy, one line per finished trial. */
export function parallelOption(specs: readonly ParamSpec[], trials: readonly LiveTrial[]): ChartOption {
  const searched = specs.filter((s) => s.type !== 'fixed');
  const done = trials.filter((t) => (t.status === 'complete' || t.status === 'pruned') && accuracyOf(t) !== null);
  const dims = searched.map((s, i) => s.type === 'categorical'
    ? { dim: i, name: s.name, type: 'category', data: s.choices.map((c) => String(c)) }
    : { dim: i, name: s.name, type: s.type === 'loguniform' ? 'log' : 'value', scale: true, axisLabel: { formatter: (v: number) => fmtParam(v) } });
  return {
    title: TITLE('Parallel coordinates'), animation: false,
    parallel: { left: 40, right: 70, top: 52, bottom: 24, parallelAxisDefault: { nameTextStyle: { fontSize: 11, color: '#334155' }, axisLabel: { fontSize: 10, color: '#64748b' } } },
    parallelAxis: [...dims, { dim: searched.length, name: 'accuracy', type: 'value', min: 0, max: 1 }],
    visualMap: { show: false, min: 0, max: 1, dimension: searched.length, inRange: { color: ['#c2362f', '#c27c0e', '#1e8e5a'] } },
    series: [{ type: 'parallel', lineStyle: { width: 2, opacity: 0.75 }, data: done.map((t) => [...searched.map((s) => (s.type === 'categorical' ? String(t.params[s.name]) : t.params[s.name])), accuracyOf(t)]) }],
  };
}
