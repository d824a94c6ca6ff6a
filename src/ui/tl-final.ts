// The end of a study: the best trial and its parameters, its test accuracy, downloads (the model as a Hugging Face
// folder in a zip, the report as JSON and HTML), and a box to type a review and see the tuned model's prediction.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { LabController, LabView } from '../app/lab-controller.ts';
import type { Prediction } from '../../workers/trainer.worker.ts';
import { fmtParam, fmtPct } from './format.ts';
import { shared } from './styles.ts';

function download(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

@customElement('tl-final')
export class TlFinal extends LitElement {
  static override styles = [shared, css`
    .top { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; margin-bottom: 12px; }
    .stat { background: #f8fafc; border: 1px solid #eef0f4; border-radius: 8px; padding: 10px 12px; }
    .stat .big { font-size: 1.6rem; font-weight: 700; color: #1d2430; }
    .params { font-size: 0.86rem; }
    .actions { display: flex; gap: 8px; flex-wrap: wrap; margin: 8px 0 14px; }
    textarea { min-height: 70px; font-family: inherit; font-size: 0.92rem; }
    .pred { margin-top: 8px; font-size: 1rem; }
    .pos { color: #1e8e5a; font-weight: 700; }
    .neg { color: #c2362f; font-weight: 700; }
  `];

  @property({ attribute: false }) view: LabView | null = null;
  @property({ attribute: false }) lab: LabController | null = null;
  @state() private review = 'A warm, funny and beautifully acted film. I loved every minute of it.';
  @state() private prediction: Prediction | null = null;
  @state() private problem: string | null = null;
  @state() private working = false;

  private async act(fn: () => Promise<{ name: string; blob: Blob } | string>): Promise<void> {
    this.problem = null;
    this.working = true;
    try {
      const r = await fn();
      if (typeof r === 'string') this.problem = r;
      else download(r.name, r.blob);
    } catch (e) {
      this.problem = e instanceof Error ? e.message : String(e);
    } finally {
      this.working = false;
    }
  }

  private async predict(): Promise<void> {
    if (!this.lab) return;
    this.problem = null;
    this.working = true;
    try {
      const r = await this.lab.predict(this.review);
      if (typeof r === 'string') { this.problem = r; this.prediction = null; } else this.prediction = r;
    } finally {
      this.working = false;
    }
  }

  override render(): unknown {
    const v = this.view, lab = this.lab;
    if (!v || !lab || !v.best) return nothing;
    const f = v.final;
    const ready = f.status === 'ready';
    return html`<section class="card" aria-label="Best trial">
      <h2>${v.phase === 'finished' || v.phase === 'stopped' ? 'Best trial' : 'Best trial so far'}</h2>
      <div class="top">
        <div class="stat"><div class="muted">Trial</div><div class="big" data-testid="best-trial">#${v.best.trialId}</div></div>
        <div class="stat"><div class="muted">Validation accuracy</div><div class="big">${fmtPct(v.best.value)}</div></div>
        <div class="stat"><div class="muted">Test accuracy${f.testRows > 0 ? ` (${f.testRows} reviews)` : ''}</div>
          <div class="big" data-testid="test-accuracy">${ready ? fmtPct(f.testAccuracy) : f.status === 'working' ? '…' : '–'}</div></div>
      </div>
      <div class="params">${Object.entries(v.best.params).map(([k, val]) => html`<span style="margin-right:14px"><span class="muted">${k}</span> <b class="num">${fmtParam(val)}</b></span>`)}</div>
      ${f.message ? html`<p class=${f.status === 'error' ? 'error' : 'muted'}>${f.message}</p>` : nothing}
      ${f.status === 'none' && (v.phase === 'finished' || v.phase === 'stopped') ? html`<p><button @click=${() => void lab.finalModel()}>Load the best model</button></p>` : nothing}
      ${ready && f.mode === 'retrained-missing-weights' ? html`<p class="muted">Its weights were rebuilt by re-running the trial (same seed and data).</p>` : nothing}
      <div class="actions">
        <button ?disabled=${!ready || this.working} @click=${() => void this.act(() => lab.modelZip())}>Download model (.zip)</button>
        <button ?disabled=${this.working} @click=${() => void this.act(() => lab.report('html'))}>Report (HTML)</button>
        <button ?disabled=${this.working} @click=${() => void this.act(() => lab.report('json'))}>Report (JSON)</button>
      </div>
      ${ready ? html`
        <h3>Try it</h3>
        <textarea aria-label="Review to classify" .value=${this.review} @input=${(e: Event) => { this.review = (e.target as HTMLTextAreaElement).value; }}></textarea>
        <div style="margin-top:8px"><button class="primary" ?disabled=${this.working} @click=${() => void this.predict()}>Predict</button></div>
        ${this.prediction ? html`<div class="pred" data-testid="prediction">
            <span class=${this.prediction.label === 1 ? 'pos' : 'neg'}>${this.prediction.label === 1 ? 'Positive' : 'Negative'}</span>
            <span class="muted"> · ${(this.prediction.positive * 100).toFixed(1)}% positive · ${this.prediction.tokens} tokens</span></div>` : nothing}` : nothing}
      ${this.problem ? html`<div class="error" role="alert" style="margin-top:10px">${this.problem}</div>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-final': TlFinal;
  }
}
