// The TuneLab page: header, WebGPU problems, the set-up form, the study bar, the Trials table, the charts, the GPU
// panel and the best trial. It renders LabController.view and forwards the user's verbs; it owns no study logic.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LabController } from '../app/lab-controller.ts';
import { readSpace } from '../app/lab-config.ts';
import { parseSearchSpace, type ParamSpec } from '../search/space.ts';
import { LabViewController } from './controllers/lab-view.ts';
import { shared } from './styles.ts';
import type { TuneDetail } from './tl-setup.ts';
import './tl-setup.ts';
import './tl-study-bar.ts';
import './tl-trials-table.ts';
import './tl-charts.ts';
import './tl-gpu-panel.ts';
import './tl-final.ts';
import './tl-no-webgpu.ts';

@customElement('tunelab-app')
export class TunelabApp extends LitElement {
  static override styles = [shared, css`
    header { background: #1f4e79; color: #fff; padding: 14px 24px; display: flex; align-items: baseline; gap: 14px; }
    header h1 { margin: 0; font-size: 1.35rem; letter-spacing: 0.01em; }
    header .tag { color: #c9dcf0; font-size: 0.92rem; }
    main { max-width: 1500px; margin: 0 auto; padding: 18px 20px 40px; display: grid; grid-template-columns: minmax(320px, 390px) 1fr; gap: 16px; align-items: start; }
    .col { display: grid; gap: 16px; min-width: 0; }
    .top-error { grid-column: 1 / -1; }
    @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
  `];

  @property({ attribute: false }) lab: LabController | null = null;
  private viewCtl: LabViewController | undefined;

  override willUpdate(): void {
    // `lab` arrives after the element is upgraded (main.ts sets it): subscribe on the first render that has it.
    if (this.lab && !this.viewCtl) this.viewCtl = new LabViewController(this, this.lab);
  }

  private specs(spaceText: string | undefined): ParamSpec[] {
    if (spaceText === undefined) return [];
    const r = readSpace(spaceText);
    return r.ok ? [...parseSearchSpace(r.space).parameters] : [];
  }

  override render(): unknown {
    const lab = this.lab;
    if (!lab) return html`<p>Starting…</p>`;
    const v = lab.view;
    const specs = this.specs(v.config?.spaceText);
    const names = specs.filter((s) => s.type !== 'fixed').map((s) => s.name);
    return html`
      <header><h1>TuneLab</h1><span class="tag">Tune a sentiment classifier on your own GPU, in this browser.</span></header>
      <main>
        ${v.noWebGpu ? html`<div class="top-error"><tl-no-webgpu .reason=${v.noWebGpu}></tl-no-webgpu></div>` : nothing}
        ${v.error ? html`<div class="top-error error" role="alert" data-testid="error">${v.error}</div>` : nothing}
        <div class="col">
          <tl-setup .initial=${v.config} ?disabled=${lab.busy() || v.noWebGpu !== null}
            .disabledReason=${v.noWebGpu !== null ? 'Needs WebGPU (see above).' : 'A study is running.'}
            @tune=${(e: CustomEvent<TuneDetail>) => void lab.tune(e.detail.config, e.detail.picks)}></tl-setup>
          <tl-gpu-panel .view=${v}></tl-gpu-panel>
        </div>
        <div class="col">
          <tl-study-bar .view=${v} .lab=${lab}></tl-study-bar>
          <tl-final .view=${v} .lab=${lab}></tl-final>
          <tl-trials-table .trials=${v.trials} .paramNames=${names} .bestId=${v.best?.trialId ?? null}></tl-trials-table>
          ${v.trials.length > 0 ? html`<tl-charts .trials=${v.trials} .specs=${specs}></tl-charts>` : nothing}
        </div>
      </main>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tunelab-app': TunelabApp;
  }
}
