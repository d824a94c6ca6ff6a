// A Hugging Face model folder as bytes: config.json, model.safetensors and the tokenizer files. Loading checks each
// file and names it in errors; exporting writes what transformers' from_pretrained and TuneLab both read.
import { parseModelConfig, toHfConfig, type EncoderConfig } from './config.ts';
import { modelParams, type ModelParams } from './params.ts';
import { readSafetensors, writeSafetensors } from './safetensors.ts';
import { arenaTensors, loadWeights } from './weights.ts';

/** Tokenizer files copied through unchanged (whichever the folder has). */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'vocab.txt', 'special_tokens_map.json'] as const;

export interface ModelFolderFiles {
  /** File name -> bytes, for at least config.json and model.safetensors. */
  files: Map<string, Uint8Array>;
  /** Shown in errors (a path or a Hub id). */
  source: string;
}

export interface LoadedModel {
  config: EncoderConfig;
  params: ModelParams;
  arena: Float32Array;
  initialized: string[];
  unused: string[];
  tokenizerFiles: Map<string, Uint8Array>;
}

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';
}

function file(folder: ModelFolderFiles, name: string): Uint8Array {
  const f = folder.files.get(name);
  if (!f) throw new ModelFolderError(`${folder.source}: ${name} is missing (a model folder holds config.json, model.safetensors and tokenizer.json)`);
  return f;
}

export function loadModelFolder(folder: ModelFolderFiles, seed: number, overrides: Partial<Pick<EncoderConfig, 'hiddenDropout' | 'attentionDropout' | 'classifierDropout'>> = {}): LoadedModel {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(file(folder, 'config.json')));
  } catch (e) {
    if (e instanceof ModelFolderError) throw e;
    throw new ModelFolderError(`${folder.source}/config.json: not valid JSON (${(e as Error).message})`);
  }
  const config = { ...parseModelConfig(json, `${folder.source}/config.json`), ...overrides };
  const params = modelParams(config);
  const tensors = readSafetensors(file(folder, 'model.safetensors'), `${folder.source}/model.safetensors`);
  const { arena, initialized, unused } = loadWeights(params, config, tensors, seed, `${folder.source}/model.safetensors`);
  const tokenizerFiles = new Map<string, Uint8Array>();
  for (const name of TOKENIZER_FILES) {
    const f = folder.files.get(name);
    if (f) tokenizerFiles.set(name, f);
  }
  return { config, params, arena, initialized, unused, tokenizerFiles };
}

/** A seeded random-init model of `config` (every tensor initialised as transformers does). */
export function initModel(config: EncoderConfig, seed: number): { params: ModelParams; arena: Float32Array } {
  const params = modelParams(config);
  return { params, arena: loadWeights(params, config, new Map(), seed, 'init', true).arena };
}

/** The folder files of a trained model: config.json, model.safetensors (fp32, HF names) and the tokenizer files. */
export function exportModelFolder(config: EncoderConfig, params: ModelParams, arena: Float32Array, tokenizerFiles: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  out.set('config.json', new TextEncoder().encode(`${JSON.stringify(toHfConfig(config), null, 2)}\n`));
  out.set('model.safetensors', writeSafetensors(arenaTensors(params, arena)));
  for (const [name, bytes] of tokenizerFiles) out.set(name, bytes);
  return out;
}
