// Hugging Face weights <-> the parameter arena. Loads a checkpoint of the sequence classifier or of the bare encoder
// (names without the 'distilbert.'/'bert.' prefix, legacy LayerNorm gamma/beta), initialises the classification head
// (seeded, as transformers' _init_weights does) when the checkpoint has none, and writes the arena back under HF names.
import { Rng } from '../random.ts';
import type { EncoderConfig } from './config.ts';
import type { ModelParams } from './params.ts';
import type { SafeTensor } from './safetensors.ts';

export class WeightsError extends Error {
  override name = 'WeightsError';
}

export interface LoadedWeights {
  arena: Float32Array;
  /** Tensors initialised because the checkpoint lacks them. */
  initialized: string[];
  /** Checkpoint tensors the classifier does not use (e.g. a masked-LM head). */
  unused: string[];
}

function candidates(name: string, prefix: string): string[] {
  const out = [name];
  if (name.startsWith(prefix)) out.push(name.slice(prefix.length));
  for (const n of [...out]) {
    if (n.endsWith('LayerNorm.weight')) out.push(n.replace(/weight$/, 'gamma'));
    if (n.endsWith('LayerNorm.bias')) out.push(n.replace(/bias$/, 'beta'));
  }
  return out;
}

/** transformers' init: Linear/Embedding weights ~ N(0, initializer_range), biases 0, LayerNorm 1/0, padding row 0. */
function initTensor(name: string, count: number, c: EncoderConfig, rng: Rng, shape: number[]): Float32Array {
  const out = new Float32Array(count);
  if (/(LayerNorm|layer_norm)\.weight$/.test(name)) out.fill(1);
  else if (name.endsWith('.weight')) {
    for (let i = 0; i < count; i++) out[i] = rng.normal() * c.initializerRange;
    if (name.endsWith('word_embeddings.weight')) out.fill(0, c.padTokenId * shape[1]!, (c.padTokenId + 1) * shape[1]!);
  }
  return out;
}

/**
 * Builds the arena from checkpoint tensors. Head tensors (and a missing BERT pooler) are initialised from `seed`;
 * any other missing tensor is an error naming it. `initAll` initialises everything (a random-init model).
 */
export function loadWeights(params: ModelParams, config: EncoderConfig, tensors: Map<string, SafeTensor>, seed: number, source = 'model.safetensors', initAll = false): LoadedWeights {
  const arena = new Float32Array(params.layout.size);
  const used = new Set<string>();
  const initialized: string[] = [];
  const rng = new Rng(seed);
  const initializable = (name: string): boolean => initAll || params.headNames.includes(name) || name.includes('pooler.');
  for (const [name, place] of params.layout.tensors) {
    const found = initAll ? undefined : candidates(name, params.prefix).find((n) => tensors.has(n));
    if (found === undefined) {
      if (!initializable(name)) {
        throw new WeightsError(`${source}: tensor "${name}" (shape ${JSON.stringify(place.shape)}) is missing; is this a ${config.arch} checkpoint of this configuration?`);
      }
      arena.set(initTensor(name, place.count, config, rng, place.shape), place.offset);
      initialized.push(name);
      continue;
    }
    const t = tensors.get(found)!;
    if (t.shape.length !== place.shape.length || t.shape.some((d, i) => d !== place.shape[i])) {
      throw new WeightsError(`${source}: tensor "${found}" has shape ${JSON.stringify(t.shape)}, config.json implies ${JSON.stringify(place.shape)}`);
    }
    if (!(t.data instanceof Float32Array)) throw new WeightsError(`${source}: tensor "${found}" has integer dtype ${t.dtype}`);
    arena.set(t.data, place.offset);
    used.add(found);
  }
  const unused = [...tensors.keys()].filter((n) => !used.has(n));
  return { arena, initialized, unused };
}

/** The arena's tensors under their HF names (views into `arena`). */
export function arenaTensors(params: ModelParams, arena: Float32Array): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, place] of params.layout.tensors) out.set(name, { shape: place.shape, data: arena.subarray(place.offset, place.offset + place.count) });
  return out;
}
