// Shown instead of failing when the browser has no usable WebGPU: what happened and what to do.
import { LitElement, css, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { shared } from './styles.ts';

@customElement('tl-no-webgpu')
export class TlNoWebgpu extends LitElement {
  static override styles = [shared, css`
    .card { border-color: #f1b5b0; background: #fffafa; }
    h2 { color: #8c1d18; }
    li { margin: 4px 0; }
  `];

  @property() reason = '';

  override render(): unknown {
    return html`<section class="card" role="alert" data-testid="no-webgpu">
      <h2>WebGPU is not available</h2>
      <p>${this.reason}</p>
      <p>TuneLab trains on your GPU through WebGPU. To use it:</p>
      <ul>
        <li>Use a current Chrome, Edge or another Chromium browser (version 113 or later), or Safari 26 / Firefox 141 and later where WebGPU is on.</li>
        <li>Make sure hardware acceleration is on (chrome://settings/system) and the GPU is not blocked (chrome://gpu shows "WebGPU: Hardware accelerated").</li>
        <li>On Linux, start Chromium with <code>--enable-unsafe-webgpu --enable-features=Vulkan</code>.</li>
        <li>No GPU at all? The <code>tunelab</code> command runs the same engine in Node on a server.</li>
      </ul>
    </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-no-webgpu': TlNoWebgpu;
  }
}
