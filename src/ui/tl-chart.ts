// One echarts chart in a lit element (SVG renderer: crisp, light, screenshot-friendly). `option` is replaced as the
// study moves; updates are applied at most every UPDATE_MS so a fast study never floods the main thread.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import * as echarts from 'echarts/core';
import { LineChart, ParallelChart, ScatterChart } from 'echarts/charts';
import { GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

echarts.use([LineChart, ScatterChart, ParallelChart, GridComponent, LegendComponent, ParallelComponent, TitleComponent, TooltipComponent, VisualMapComponent, SVGRenderer]);

export type ChartOption = echarts.EChartsCoreOption;

const UPDATE_MS = 400;

@customElement('tl-chart')
export class TlChart extends LitElement {
  static override styles = css`
    :host { display: block; }
    .box { width: 100%; height: var(--chart-height, 240px); }
  `;

  @property({ attribute: false }) option: ChartOption | null = null;
  @property() label = '';

  private chart: echarts.ECharts | undefined;
  private resize: ResizeObserver | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastApplied = 0;

  override firstUpdated(): void {
    const box = this.renderRoot.querySelector<HTMLDivElement>('.box');
    if (!box) return;
    this.chart = echarts.init(box, undefined, { renderer: 'svg' });
    this.resize = new ResizeObserver(() => this.chart?.resize());
    this.resize.observe(box);
    this.apply();
  }

  override updated(changed: Map<string, unknown>): void {
    if (!changed.has('option') || !this.chart) return;
    const wait = UPDATE_MS - (performance.now() - this.lastApplied);
    if (wait <= 0) this.apply();
    else this.timer ??= setTimeout(() => { this.timer = undefined; this.apply(); }, wait);
  }

  private apply(): void {
    if (!this.chart || !this.option) return;
    this.lastApplied = performance.now();
    this.chart.setOption(this.option, { notMerge: true, lazyUpdate: true });
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.resize?.disconnect();
    this.chart?.dispose();
    this.chart = undefined;
  }

  override render(): unknown {
    return html`<div class="box" role="img" aria-label=${this.label}></div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-chart': TlChart;
  }
}
