// Shared look of the TuneLab elements: cards, buttons, form fields, status colours (one palette for table and charts).
import { css } from 'lit';

/** Status word -> colour, shared by the Trials table badges and the charts. */
export const STATUS_COLORS: Readonly<Record<string, string>> = {
  pending: '#8a94a6', running: '#2f6fdb', complete: '#1e8e5a', pruned: '#c27c0e', failed: '#c2362f', stopped: '#6b7280',
};

/** Distinct, readable series colours for per-trial curves. */
export const SERIES_COLORS = ['#2f6fdb', '#1e8e5a', '#c2362f', '#8e44ad', '#c27c0e', '#16a2b8', '#d6336c', '#5c7cfa', '#2b8a3e', '#e8590c'];

export const shared = css`
  :host { display: block; box-sizing: border-box; }
  * { box-sizing: border-box; }
  .card { background: #fff; border: 1px solid #dfe3ea; border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.04); }
  h2 { font-size: 1.05rem; margin: 0 0 12px; font-weight: 650; color: #1d2430; }
  h3 { font-size: 0.92rem; margin: 0 0 8px; font-weight: 600; color: #334155; }
  .muted { color: #64748b; font-size: 0.86rem; }
  button { font: inherit; border-radius: 7px; border: 1px solid #c7cdd8; background: #fff; color: #1d2430; padding: 7px 14px; cursor: pointer; }
  button:hover:not(:disabled) { background: #f1f4f9; }
  button:disabled { opacity: 0.5; cursor: not-allowed; }
  button.primary { background: #1f4e79; border-color: #1f4e79; color: #fff; font-weight: 600; }
  button.primary:hover:not(:disabled) { background: #173d60; }
  label { display: block; font-size: 0.85rem; color: #334155; font-weight: 550; margin: 10px 0 4px; }
  input[type='text'], input[type='number'], input[type='url'], input[type='password'], select, textarea {
    font: inherit; width: 100%; padding: 6px 9px; border: 1px solid #c7cdd8; border-radius: 6px; background: #fff; color: #1d2430;
  }
  textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.82rem; }
  .error { background: #fdf0ef; border: 1px solid #f1b5b0; color: #8c1d18; border-radius: 8px; padding: 10px 12px; white-space: pre-wrap; font-size: 0.9rem; }
  .note { background: #eef5ff; border: 1px solid #c3d8f7; color: #1f3b66; border-radius: 8px; padding: 8px 12px; font-size: 0.88rem; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 0.78rem; font-weight: 600; color: #fff; }
  .num { font-variant-numeric: tabular-nums; }
  progress { width: 100%; height: 10px; accent-color: #2f6fdb; }
`;
