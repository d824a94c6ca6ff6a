// The "Trials" table: one row per trial with its parameters, status word (pending, running, complete, pruned,
// failed, stopped) and reason, validation accuracy, and a progress bar with the time left while it runs.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LiveTrial } from '../app/lab-controller.ts';
import { fmtDuration, fmtParam, fmtPct } from './format.ts';
import { shared, STATUS_COLORS } from './styles.ts';

@customElement('tl-trials-table')
export class TlTrialsTable extends LitElement {
  static override styles = [shared, css`
    .wrap { overflow-x: auto; }
    table { border-collapse: collapse; width: 100%; font-size: 0.86rem; }
    caption { text-align: left; font-weight: 650; font-size: 1.05rem; padding-bottom: 10px; color: #1d2430; }
    th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eef0f4; vertical-align: top; }
    th { font-weight: 600; color: #475569; background: #f8fafc; white-space: nowrap; }
    tr.best td { background: #f0faf4; }
    td.reason { color: #64748b; max-width: 22rem; }
    .prog { min-width: 9rem; }
    .prog .muted { font-size: 0.76rem; }
  `];

  @property({ attribute: false }) trials: LiveTrial[] = [];
  @property({ attribute: false }) paramNames: string[] = [];
  @property({ type: Number }) bestId: number | null = null;

  private progress(t: LiveTrial): unknown {
    if (t.status === 'running') {
      const frac = t.totalSteps > 0 ? t.step / t.totalSteps : 0;
      return html`<progress max="1" .value=${frac} aria-label=${`trial ${t.id} progress`}></progress>
        <div class="muted num">${t.totalSteps > 0 ? `step ${t.step}/${t.totalSteps} · ${fmtDuration(t.etaSeconds)} left` : 'starting…'}</div>`;
    }
    if (t.status === 'pending') return html`<span class="muted">waiting</span>`;
    const parts = [t.totalSteps > 0 ? `${t.step}/${t.totalSteps} steps` : '', t.seconds !== null ? fmtDuration(t.seconds) : ''].filter((x) => x !== '');
    return html`<span class="muted num">${parts.join(' · ')}</span>`;
  }

  override render(): unknown {
    const names = this.paramNames;
    return html`<div class="card wrap">
      <table aria-label="Trials">
        <caption>Trials</caption>
        <thead><tr><th>#</th>${names.map((n) => html`<th>${n}</th>`)}<th>Status</th><th>Val. accuracy</th><th class="prog">Progress</th><th>Reason</th></tr></thead>
        <tbody>
          ${this.trials.length === 0 ? html`<tr><td colspan=${names.length + 5} class="muted">No trials yet: set up a study and click Tune.</td></tr>` : nothing}
          ${this.trials.map((t) => {
            const acc = t.value ?? t.evals.at(-1)?.valAccuracy ?? null;
            return html`<tr class=${t.id === this.bestId ? 'best' : ''} data-status=${t.status} data-trial=${t.id}>
              <td class="num">${t.id}${t.id === this.bestId ? ' ★' : ''}</td>
              ${names.map((n) => html`<td class="num">${fmtParam(t.params[n])}</td>`)}
              <td><span class="badge status" style="background:${STATUS_COLORS[t.status] ?? '#888'}">${t.status}</span></td>
              <td class="num">${fmtPct(acc)}</td>
              <td class="prog">${this.progress(t)}</td>
              <td class="reason">${t.reason ?? ''}${t.message ? html`<div>${t.message}</div>` : nothing}</td>
            </tr>`;
          })}
        </tbody>
      </table></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-trials-table': TlTrialsTable;
  }
}
