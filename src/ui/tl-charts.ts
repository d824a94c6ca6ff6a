// The live charts of a study: loss and validation accuracy per trial, optimisation history, each parameter against
// accuracy, and parallel coordinates.
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LiveTrial } from '../app/lab-controller.ts';
import type { ParamSpec } from '../search/space.ts';
import { accuracyOption, historyOption, lossOption, parallelOption, paramOption } from './charts.ts';
import { shared } from './styles.ts';
import './tl-chart.ts';

@customElement('tl-charts')
export class TlCharts extends LitElement {
  static override styles = [shared, css`
    .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
    .wide { grid-column: 1 / -1; --chart-height: 260px; }
    .cell { border: 1px solid #eef0f4; border-radius: 8px; padding: 4px; }
  `];

  @property({ attribute: false }) trials: LiveTrial[] = [];
  @property({ attribute: false }) specs: ParamSpec[] = [];

  override render(): unknown {
    const t = this.trials;
    const searched = this.specs.filter((s) => s.type !== 'fixed');
    return html`<section class="card" aria-label="Charts">
      <h2>Charts</h2>
      <div class="grid">
        <div class="cell"><tl-chart data-chart="loss" label="Training loss per trial" .option=${lossOption(t)}></tl-chart></div>
        <div class="cell"><tl-chart data-chart="accuracy" label="Validation accuracy per trial" .option=${accuracyOption(t)}></tl-chart></div>
        <div class="cell"><tl-chart data-chart="history" label="Optimisation history" .option=${historyOption(t)}></tl-chart></div>
        ${searched.map((s) => html`<div class="cell"><tl-chart data-chart=${`param-${s.name}`} label=${`${s.name} against accuracy`} .option=${paramOption(s, t)}></tl-chart></div>`)}
        ${searched.length > 1 ? html`<div class="cell wide"><tl-chart data-chart="parallel" label="Parallel coordinates" .option=${parallelOption(this.specs, t)}></tl-chart></div>` : nothing}
      </div>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-charts': TlCharts;
  }
}
