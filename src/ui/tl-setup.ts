// The study set-up form: model source, dataset, search space (JSON, checked as you type), budget, trainer workers,
// advanced settings, MLflow (off by default), and the Tune button. Fires `tune` with {config, picks}; never runs
// anything itself. Everything typed or read from files is rendered as text (lit escapes it).
import { LitElement, css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { checkSettings, defaultLabConfig, readSpace, type DataSourceChoice, type LabConfig, type LabSettings, type ModelSourceChoice } from '../app/lab-config.ts';
import type { Picks } from '../app/lab-controller.ts';
import { shared } from './styles.ts';

export interface TuneDetail {
  config: LabConfig;
  picks: Picks;
}

type NumKey = { [K in keyof LabSettings]: LabSettings[K] extends number ? K : never }[keyof LabSettings];
type OptKey = { [K in keyof LabSettings]: LabSettings[K] extends number | null ? (null extends LabSettings[K] ? K : never) : never }[keyof LabSettings];

@customElement('tl-setup')
export class TlSetup extends LitElement {
  static override styles = [shared, css`
    .row { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
    .row3 { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 10px; }
    .choices { display: flex; gap: 14px; flex-wrap: wrap; margin: 4px 0 6px; font-size: 0.9rem; }
    .choices label { display: inline-flex; align-items: center; gap: 5px; margin: 0; font-weight: 450; }
    textarea { min-height: 150px; resize: vertical; }
    .drop { border: 2px dashed #c7cdd8; border-radius: 8px; padding: 12px; text-align: center; color: #64748b; font-size: 0.86rem; margin-top: 6px; }
    .drop.over { border-color: #2f6fdb; background: #eef5ff; }
    details { margin-top: 12px; border-top: 1px solid #eef0f4; padding-top: 8px; }
    summary { cursor: pointer; font-size: 0.88rem; font-weight: 600; color: #334155; }
    .ok { color: #1e8e5a; font-size: 0.82rem; margin-top: 4px; }
    .issues { margin-top: 6px; }
    .actions { margin-top: 16px; display: flex; gap: 10px; align-items: center; }
    button.primary { font-size: 1rem; padding: 9px 28px; }
    .check { display: flex; align-items: center; gap: 6px; font-weight: 450; }
  `];

  @property({ type: Boolean }) disabled = false;
  /** Why Tune is disabled, shown beside it. */
  @property() disabledReason = '';
  @property({ attribute: false }) initial: LabConfig | null = null;

  @state() private config: LabConfig = defaultLabConfig();
  @state() private hubModel = 'distilbert-base-uncased';
  @state() private hubData = 'stanfordnlp/imdb';
  @state() private modelFiles: File[] | null = null;
  @state() private dataFiles: File[] | null = null;
  @state() private problems: string[] = [];
  @state() private dragOver = false;
  @state() private mlflowOn = false;

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('initial') && this.initial) {
      this.config = structuredClone(this.initial);
      if (this.initial.model.kind === 'hub') this.hubModel = this.initial.model.id;
      if (this.initial.data.kind === 'hub') this.hubData = this.initial.data.id;
      this.mlflowOn = this.initial.mlflow !== null;
    }
  }

  private setSetting<K extends keyof LabSettings>(key: K, value: LabSettings[K]): void {
    this.config = { ...this.config, settings: { ...this.config.settings, [key]: value } };
  }

  private num(key: NumKey, label: string, step = '1', min = '1'): unknown {
    return html`<div><label for=${key}>${label}</label><input id=${key} type="number" min=${min} step=${step} .value=${String(this.config.settings[key])}
      @input=${(e: Event) => this.setSetting(key, Number((e.target as HTMLInputElement).value))}></div>`;
  }

  private opt(key: OptKey, label: string): unknown {
    const v = this.config.settings[key];
    return html`<div><label for=${key}>${label}</label><input id=${key} type="number" min="2" placeholder="all" .value=${v === null ? '' : String(v)}
      @input=${(e: Event) => { const t = (e.target as HTMLInputElement).value.trim(); this.setSetting(key, t === '' ? null : Number(t)); }}></div>`;
  }

  private setModel(kind: ModelSourceChoice['kind']): void {
    const model: ModelSourceChoice = kind === 'demo' ? { kind } : kind === 'hub' ? { kind, id: this.hubModel } : { kind, name: this.modelFiles?.[0]?.webkitRelativePath.split('/')[0] ?? '' };
    this.config = { ...this.config, model };
  }

  private setData(kind: DataSourceChoice['kind']): void {
    const data: DataSourceChoice = kind === 'demo' ? { kind } : kind === 'hub' ? { kind, id: this.hubData } : { kind, names: (this.dataFiles ?? []).map((f) => f.name) };
    this.config = { ...this.config, data };
  }

  private pickFolder(e: Event): void {
    const files = [...((e.target as HTMLInputElement).files ?? [])];
    this.modelFiles = files;
    const name = files[0]?.webkitRelativePath.split('/')[0] ?? files[0]?.name ?? 'folder';
    this.config = { ...this.config, model: { kind: 'folder', name } };
  }

  private takeDataFiles(files: File[]): void {
    this.dataFiles = files;
    this.config = { ...this.config, data: { kind: 'files', names: files.map((f) => f.name) } };
  }

  private onDrop(e: DragEvent): void {
    e.preventDefault();
    this.dragOver = false;
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) this.takeDataFiles(files);
  }

  private submit(): void {
    const c = this.config;
    const model: ModelSourceChoice = c.model.kind === 'hub' ? { kind: 'hub', id: this.hubModel.trim() } : c.model;
    const data: DataSourceChoice = c.data.kind === 'hub' ? { kind: 'hub', id: this.hubData.trim() } : c.data;
    const config: LabConfig = { ...c, model, data, mlflow: this.mlflowOn ? c.mlflow ?? { url: '', token: '' } : null };
    const problems: string[] = [];
    const space = readSpace(config.spaceText);
    if (!space.ok) problems.push(...space.issues.map((i) => `Search space: ${i}`));
    problems.push(...checkSettings(config.settings));
    if (model.kind === 'folder' && (this.modelFiles === null || this.modelFiles.length === 0)) problems.push('Model: pick a model folder (config.json, model.safetensors, tokenizer.json).');
    if (model.kind === 'hub' && model.id === '') problems.push('Model: type a Hugging Face model id, e.g. distilbert-base-uncased.');
    if (data.kind === 'files' && (this.dataFiles === null || this.dataFiles.length === 0)) problems.push('Dataset: choose or drop a file (JSONL, CSV, TSV, Parquet, or the aclImdb tar.gz).');
    if (data.kind === 'hub' && data.id === '') problems.push('Dataset: type a Hugging Face dataset id, e.g. stanfordnlp/imdb.');
    if (config.mlflow && config.mlflow.url.trim() === '') problems.push('MLflow: type the tracking server URL, or switch MLflow off.');
    this.problems = problems;
    if (problems.length > 0) return;
    this.dispatchEvent(new CustomEvent<TuneDetail>('tune', { detail: { config, picks: { modelFiles: model.kind === 'folder' ? this.modelFiles : null, dataFiles: data.kind === 'files' ? this.dataFiles : null } }, bubbles: true, composed: true }));
  }

  override render(): unknown {
    const c = this.config;
    const space = readSpace(c.spaceText);
    return html`
      <section class="card" aria-label="Set up a study">
        <h2>Set up</h2>
        <fieldset ?disabled=${this.disabled} style="border:0;padding:0;margin:0">
          <label>Model</label>
          <div class="choices" role="radiogroup" aria-label="Model source">
            <label><input type="radio" name="model" .checked=${c.model.kind === 'demo'} @change=${() => this.setModel('demo')}> Demo (offline)</label>
            <label><input type="radio" name="model" .checked=${c.model.kind === 'hub'} @change=${() => this.setModel('hub')}> Hugging Face id</label>
            <label><input type="radio" name="model" .checked=${c.model.kind === 'folder'} @change=${() => this.setModel('folder')}> Folder on disk</label>
          </div>
          ${c.model.kind === 'demo' ? html`<div class="muted">A tiny random-init DistilBERT (1 M parameters) that ships with the page.</div>` : nothing}
          ${c.model.kind === 'hub' ? html`<input type="text" aria-label="Hugging Face model id" placeholder="distilbert-base-uncased" .value=${this.hubModel}
            @input=${(e: Event) => { this.hubModel = (e.target as HTMLInputElement).value; }}>
            <div class="muted">Downloaded once from huggingface.co, then kept in this browser.</div>` : nothing}
          ${c.model.kind === 'folder' ? html`<input type="file" aria-label="Model folder" webkitdirectory multiple @change=${(e: Event) => this.pickFolder(e)}>
            <div class="muted">${this.modelFiles ? `${this.modelFiles.length} files picked` : 'A folder with config.json, model.safetensors and tokenizer.json.'}</div>` : nothing}

          <label>Dataset</label>
          <div class="choices" role="radiogroup" aria-label="Dataset source">
            <label><input type="radio" name="data" .checked=${c.data.kind === 'demo'} @change=${() => this.setData('demo')}> IMDB sample (offline)</label>
            <label><input type="radio" name="data" .checked=${c.data.kind === 'hub'} @change=${() => this.setData('hub')}> Hugging Face id</label>
            <label><input type="radio" name="data" .checked=${c.data.kind === 'files'} @change=${() => this.setData('files')}> File</label>
          </div>
          ${c.data.kind === 'demo' ? html`<div class="muted">600 training and 200 test reviews from IMDB, balanced.</div>` : nothing}
          ${c.data.kind === 'hub' ? html`<input type="text" aria-label="Hugging Face dataset id" placeholder="stanfordnlp/imdb" .value=${this.hubData}
            @input=${(e: Event) => { this.hubData = (e.target as HTMLInputElement).value; }}>` : nothing}
          ${c.data.kind === 'files' ? html`
            <input type="file" aria-label="Dataset file" multiple accept=".jsonl,.ndjson,.json,.csv,.tsv,.parquet,.gz,.tgz,.tar"
              @change=${(e: Event) => this.takeDataFiles([...((e.target as HTMLInputElement).files ?? [])])}>
            <div class="drop ${this.dragOver ? 'over' : ''}" @dragover=${(e: DragEvent) => { e.preventDefault(); this.dragOver = true; }}
              @dragleave=${() => { this.dragOver = false; }} @drop=${(e: DragEvent) => this.onDrop(e)}>
              ${this.dataFiles && this.dataFiles.length > 0 ? `Chosen: ${this.dataFiles.map((f) => f.name).join(', ')}` : 'or drop train.jsonl / train.csv / test.* here (columns text and label)'}
            </div>` : nothing}

          <label for="space">Search space</label>
          <textarea id="space" spellcheck="false" aria-label="Search space" .value=${c.spaceText}
            @input=${(e: Event) => { this.config = { ...this.config, spaceText: (e.target as HTMLTextAreaElement).value }; }}></textarea>
          ${space.ok ? html`<div class="ok">✓ ${Object.keys(space.space).length} parameters</div>`
            : html`<div class="error issues" role="alert" data-testid="space-errors">${space.issues.join('\n')}</div>`}

          <div class="row3">
            ${this.num('maxTrials', 'Trials')}
            ${this.num('maxMinutes', 'Minutes', 'any', '0.1')}
            ${this.num('workers', 'Trainer workers')}
          </div>

          <details>
            <summary>Advanced</summary>
            <div class="row3">
              ${this.num('seqLen', 'Sequence length', '1', '8')}
              ${this.num('evalsPerEpoch', 'Evals / epoch')}
              ${this.num('seed', 'Seed', '1', '0')}
            </div>
            <div class="row3">
              ${this.opt('trainRows', 'Train rows')}
              ${this.opt('valRows', 'Validation rows')}
              ${this.opt('testRows', 'Test rows')}
            </div>
            <label class="check"><input type="checkbox" .checked=${c.settings.pruning} @change=${(e: Event) => this.setSetting('pruning', (e.target as HTMLInputElement).checked)}> Prune trials below the median</label>
          </details>

          <details ?open=${this.mlflowOn}>
            <summary>MLflow tracking (off)</summary>
            <label class="check"><input type="checkbox" .checked=${this.mlflowOn} @change=${(e: Event) => { this.mlflowOn = (e.target as HTMLInputElement).checked; }}> Log trials to an MLflow server</label>
            ${this.mlflowOn ? html`
              <label for="mlflow-url">Server URL</label>
              <input id="mlflow-url" type="url" placeholder="http://127.0.0.1:5000" .value=${c.mlflow?.url ?? ''}
                @input=${(e: Event) => { this.config = { ...this.config, mlflow: { url: (e.target as HTMLInputElement).value, token: this.config.mlflow?.token ?? '' } }; }}>
              <label for="mlflow-token">Token (optional)</label>
              <input id="mlflow-token" type="password" .value=${c.mlflow?.token ?? ''}
                @input=${(e: Event) => { this.config = { ...this.config, mlflow: { url: this.config.mlflow?.url ?? '', token: (e.target as HTMLInputElement).value } }; }}>
              <div class="muted">Start it with <code>mlflow server --cors-allowed-origins ${location.origin}</code>.</div>` : nothing}
          </details>
        </fieldset>

        ${this.problems.length > 0 ? html`<div class="error" role="alert" style="margin-top:12px" data-testid="setup-errors">${this.problems.join('\n')}</div>` : nothing}
        <div class="actions">
          <button class="primary" ?disabled=${this.disabled} @click=${() => this.submit()}>Tune</button>
          <span class="muted">${this.disabled ? this.disabledReason : ''}</span>
        </div>
      </section>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'tl-setup': TlSetup;
  }
}
