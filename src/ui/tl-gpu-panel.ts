// The GPU the study trains on (adapter, limits, features), the model and data it was given, and the memory plan of
// each trial (micro-batch x accumulation, and bytes for parameters, gradients, AdamW state and activations).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { LabView } from '../app/lab-controller.ts';
import { fmtBytes } from './format.ts';
import { shared } from './styles.ts';

@customElement('tl-gpu-panel')
export class TlGpuPanel extends LitElement {
  static override styles = [shared, css`
    dl { display: grid; grid-template-columns: auto 1fr; gap: 3px 12px; margin: 0 0 10px; font-size: 0.84rem; }
    dt { color: #64748b; }
    dd { margin: 0; font-variant-numeric: tabular-nums; word-break: break-word; }
    table { border-collapse: collapse; width: 100%; font-size: 0.8rem; }
    th, td { text-align: right; padding: 3px 6px; border-bottom: 1px solid #eef0f4; }
    th:first-child, td:first-child { text-align: left; }
    th { color: #475569; font-weight: 600; }
  `];

  @property({ attribute: false }) view: LabView | null = null;

  override render(): unknown {
    const v = this.view;
    if (!v) return nothing;
    const g = v.gpu;
    const plans = v.trials.filter((t) => t.plan !== null);
    return html`<section class="card" aria-label="GPU and memory">
      <h2>GPU</h2>
      ${g ? html`<dl>
          <dt>Adapter</dt><dd>${[g.adapter.vendor, g.adapter.architecture, g.adapter.description].filter((s) => s !== '').join(' · ') || 'unnamed adapter'}</dd>
          <dt>Max buffer</dt><dd>${fmtBytes(g.limits.maxBufferSize)}</dd>
          <dt>Max storage binding</dt><dd>${fmtBytes(g.limits.maxStorageBufferBindingSize)}</dd>
          <dt>Workgroup memory</dt><dd>${fmtBytes(g.limits.maxComputeWorkgroupStorageSize)}</dd>
          <dt>Invocations / group</dt><dd>${g.limits.maxComputeInvocationsPerWorkgroup}</dd>
          <dt>Features</dt><dd>${g.features.length > 0 ? g.features.join(', ') : 'none'}</dd>
        </dl>` : html`<div class="muted">${v.noWebGpu ? 'No WebGPU.' : 'Looking for a GPU…'}</div>`}
      ${v.model ? html`<h3>Model</h3><dl>
          <dt>Shape</dt><dd>${v.model.arch}, ${v.model.layers} layers, hidden ${v.model.hidden}, ${v.model.heads} heads</dd>
          <dt>Parameters</dt><dd>${(v.model.parameters / 1e6).toFixed(2)} M</dd>
          ${v.model.initialized.length > 0 ? html`<dt>New head</dt><dd>${v.model.initialized.length} tensors initialised</dd>` : nothing}
        </dl>` : nothing}
      ${v.data ? html`<h3>Data</h3><dl>
          <dt>Rows</dt><dd>${v.data.train} train · ${v.data.validation} validation · ${v.data.test} test</dd>
          <dt>Tokens</dt><dd>${v.data.cached ? 'from the browser cache' : 'tokenized now, cached for next time'}${v.data.skipped > 0 ? ` · ${v.data.skipped} rows skipped` : ''}</dd>
        </dl>` : nothing}
      ${plans.length > 0 ? html`<h3>Memory plan per trial</h3>
        <table aria-label="Memory plans"><thead><tr><th>#</th><th>micro × acc.</th><th>weights</th><th>grads + Adam</th><th>activations</th><th>total</th></tr></thead>
        <tbody>${plans.map((t) => { const p = t.plan!; return html`<tr><td>${t.id}</td><td>${p.micro} × ${p.accumulation}</td><td>${fmtBytes(p.bytes.params)}</td>
          <td>${fmtBytes(p.bytes.grads + p.bytes.optimizer)}</td><td>${fmtBytes(p.bytes.activations)}</td><td>${fmtBytes(p.bytes.total)}</td></tr>`; })}</tbody></table>` : nothing}
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-gpu-panel': TlGpuPanel;
  }
}
