// The study's status line and controls: Pause, Resume, Stop, New study; overall progress in trials and in time.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LabController, LabView } from '../app/lab-controller.ts';
import { fmtDuration } from './format.ts';
import { shared } from './styles.ts';

@customElement('tl-study-bar')
export class TlStudyBar extends LitElement {
  static override styles = [shared, css`
    .head { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; }
    .head h2 { margin: 0; flex: 1 1 auto; }
    .phase { font-size: 0.8rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.04em; padding: 2px 9px; border-radius: 999px; background: #e2e8f0; color: #334155; }
    .phase.running { background: #dbe8fd; color: #1f4fa8; }
    .phase.finished { background: #d9f2e5; color: #156b43; }
    .phase.error { background: #fbe0de; color: #8c1d18; }
    .bars { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; margin-top: 12px; }
    .status { margin-top: 10px; font-size: 0.9rem; color: #334155; }
  `];

  @property({ attribute: false }) view: LabView | null = null;
  @property({ attribute: false }) lab: LabController | null = null;

  override render(): unknown {
    const v = this.view, lab = this.lab;
    if (!v || !lab) return nothing;
    const max = v.config?.settings.maxTrials ?? 0;
    const ended = v.trials.filter((t) => t.status === 'complete' || t.status === 'pruned' || t.status === 'failed').length;
    const minutes = v.budgetMinutes ?? 0;
    const used = v.startedAtMs !== null && v.phase === 'running' ? (Date.now() - v.startedAtMs) / 1000 : null;
    return html`<section class="card" aria-label="Study">
      <div class="head">
        <h2>Study${v.studyName ? html` <span class="muted">${v.studyName}</span>` : nothing}</h2>
        <span class="phase ${v.phase}" data-testid="phase">${v.phase}</span>
        <button ?disabled=${v.phase !== 'running'} @click=${() => lab.pause()}>Pause</button>
        <button ?disabled=${v.phase !== 'paused'} @click=${() => void lab.resume()}>Resume</button>
        <button ?disabled=${v.phase !== 'running' && v.phase !== 'paused'} @click=${() => lab.stop()}>Stop</button>
        <button ?disabled=${lab.busy() || v.phase === 'idle'} @click=${() => void lab.newStudy()}>New study</button>
      </div>
      <div class="status" role="status" data-testid="status">${v.status}</div>
      ${max > 0 && v.phase !== 'idle' && v.phase !== 'error' ? html`<div class="bars">
        <div><div class="muted num">Trials: ${ended} of ${max} finished</div><progress max=${max} .value=${ended} aria-label="trials finished"></progress></div>
        <div><div class="muted num">Time budget: ${minutes} min${used !== null ? ` · this session ${fmtDuration(used)}` : ''}</div>
          <progress max=${minutes * 60} .value=${Math.min(used ?? 0, minutes * 60)} aria-label="time used"></progress></div>
      </div>` : nothing}
      ${v.mlflow ? html`<div class="note" style="margin-top:10px" data-testid="mlflow">${v.mlflow}</div>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-study-bar': TlStudyBar;
  }
}
