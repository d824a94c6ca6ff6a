// Reads a golden fixture written by test/golden/make_golden.py (PyTorch + transformers) and builds the engine on it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseModelConfig, type EncoderConfig } from '../../src/engine/model/config.ts';
import { modelParams, type ModelParams } from '../../src/engine/model/params.ts';
import { readSafetensors, type SafeTensor } from '../../src/engine/model/safetensors.ts';
import { NO_LABEL, type TokenBatch } from '../../src/engine/model/inputs.ts';

export const FIXTURES = join(import.meta.dirname, '../golden/fixtures');

export interface Golden {
  name: string;
  meta: { arch: string; steps: number; batch: number; seq_len: number; lr: number; weight_decay: number; betas: [number, number]; eps: number; max_grad_norm: number; warmup_steps: number; total_steps: number; no_decay: string[]; fp64_max_abs_diff: Record<string, number> };
  config: EncoderConfig;
  params: ModelParams;
  weights: Map<string, SafeTensor>;
  tensors: Map<string, SafeTensor>;
}

export function loadGolden(name: string): Golden {
  const dir = join(FIXTURES, name);
  const config = parseModelConfig(JSON.parse(readFileSync(join(dir, 'model/config.json'), 'utf8')), `${name}/model/config.json`);
  return {
    name,
    meta: JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as Golden['meta'],
    config,
    params: modelParams(config),
    weights: readSafetensors(readFileSync(join(dir, 'model/model.safetensors')), `${name}/model.safetensors`),
    tensors: readSafetensors(readFileSync(join(dir, 'golden.safetensors')), `${name}/golden.safetensors`),
  };
}

export function tensor(g: Golden, name: string): SafeTensor {
  const t = g.tensors.get(name);
  if (!t) throw new Error(`${g.name}: golden tensor ${name} missing`);
  return t;
}

/** The batch of step `s` as the engine takes it (lengths from the attention mask). */
export function goldenBatch(g: Golden, s: number): TokenBatch {
  const { batch: B, seq_len: T } = g.meta;
  const ids = tensor(g, 'input_ids').data, mask = tensor(g, 'attention_mask').data, labels = tensor(g, 'labels').data;
  const out: TokenBatch = { ids: new Uint32Array(B * T), lengths: new Uint32Array(B), labels: new Uint32Array(B) };
  for (let b = 0; b < B; b++) {
    let len = 0;
    for (let t = 0; t < T; t++) {
      out.ids[b * T + t] = ids[(s * B + b) * T + t]!;
      len += mask[(s * B + b) * T + t]!;
    }
    out.lengths[b] = len;
    out.labels[b] = labels[s * B + b] ?? NO_LABEL;
  }
  return out;
}
