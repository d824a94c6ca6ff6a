// The trainable tensors of a sequence classifier by role, with their Hugging Face names, and the arena blocks the
// kernels bind. DistilBERT and BERT share one schedule (post-LN encoder + dense/activation/dense head); they differ in
// names, the token-type embedding and the head activation (ReLU vs tanh).
import { layoutArena, type ArenaLayout, type BlockSpec } from '../arena.ts';
import type { EncoderConfig } from './config.ts';

export type LayerRole = 'qkv.w' | 'qkv.b' | 'o.w' | 'o.b' | 'ln1.g' | 'ln1.b' | 'f1.w' | 'f1.b' | 'f2.w' | 'f2.b' | 'ln2.g' | 'ln2.b';
export type GlobalRole = 'word' | 'pos' | 'type' | 'embln.g' | 'embln.b' | 'pre.w' | 'pre.b' | 'cls.w' | 'cls.b';

/** Block key of a role: 'word', 'L3.qkv.w', ... */
export const layerBlock = (layer: number, role: LayerRole): string => `L${layer}.${role}`;

interface Names {
  prefix: string;
  embeddings: { word: string; pos: string; type?: string; ln: string };
  layer: (i: number) => { q: string; k: string; v: string; o: string; ln1: string; f1: string; f2: string; ln2: string };
  pre: string;
  cls: string;
}

function names(c: EncoderConfig): Names {
  if (c.arch === 'distilbert') {
    const p = 'distilbert.';
    return {
      prefix: p,
      embeddings: { word: `${p}embeddings.word_embeddings`, pos: `${p}embeddings.position_embeddings`, ln: `${p}embeddings.LayerNorm` },
      layer: (i) => {
        const l = `${p}transformer.layer.${i}.`;
        return { q: `${l}attention.q_lin`, k: `${l}attention.k_lin`, v: `${l}attention.v_lin`, o: `${l}attention.out_lin`, ln1: `${l}sa_layer_norm`, f1: `${l}ffn.lin1`, f2: `${l}ffn.lin2`, ln2: `${l}output_layer_norm` };
      },
      pre: 'pre_classifier',
      cls: 'classifier',
    };
  }
  const p = 'bert.';
  return {
    prefix: p,
    embeddings: { word: `${p}embeddings.word_embeddings`, pos: `${p}embeddings.position_embeddings`, type: `${p}embeddings.token_type_embeddings`, ln: `${p}embeddings.LayerNorm` },
    layer: (i) => {
      const l = `${p}encoder.layer.${i}.`;
      return { q: `${l}attention.self.query`, k: `${l}attention.self.key`, v: `${l}attention.self.value`, o: `${l}attention.output.dense`, ln1: `${l}attention.output.LayerNorm`, f1: `${l}intermediate.dense`, f2: `${l}output.dense`, ln2: `${l}output.LayerNorm` };
    },
    pre: `${p}pooler.dense`,
    cls: 'classifier',
  };
}

export interface ModelParams {
  layout: ArenaLayout;
  /** HF prefix of the encoder ('distilbert.' or 'bert.'): checkpoints of the bare encoder omit it. */
  prefix: string;
  /** Names of the head tensors (initialised when a checkpoint has none). */
  headNames: string[];
  /** Names without weight decay, as the HF Trainer decides (biases and LayerNorm weights). */
  noDecay: string[];
}

export function modelParams(c: EncoderConfig): ModelParams {
  const n = names(c);
  const D = c.hidden, F = c.ffn;
  const blocks: BlockSpec[] = [];
  const add = (key: string, decay: boolean, tensors: [string, number[]][]): void => {
    blocks.push({ key, decay, tensors: tensors.map(([name, shape]) => ({ name, shape })) });
  };
  add('word', true, [[`${n.embeddings.word}.weight`, [c.vocabSize, D]]]);
  add('pos', true, [[`${n.embeddings.pos}.weight`, [c.maxPositions, D]]]);
  if (n.embeddings.type) add('type', true, [[`${n.embeddings.type}.weight`, [c.typeVocab, D]]]);
  add('embln.g', false, [[`${n.embeddings.ln}.weight`, [D]]]);
  add('embln.b', false, [[`${n.embeddings.ln}.bias`, [D]]]);
  for (let i = 0; i < c.layers; i++) {
    const l = n.layer(i);
    add(layerBlock(i, 'qkv.w'), true, [[`${l.q}.weight`, [D, D]], [`${l.k}.weight`, [D, D]], [`${l.v}.weight`, [D, D]]]);
    add(layerBlock(i, 'qkv.b'), false, [[`${l.q}.bias`, [D]], [`${l.k}.bias`, [D]], [`${l.v}.bias`, [D]]]);
    add(layerBlock(i, 'o.w'), true, [[`${l.o}.weight`, [D, D]]]);
    add(layerBlock(i, 'o.b'), false, [[`${l.o}.bias`, [D]]]);
    add(layerBlock(i, 'ln1.g'), false, [[`${l.ln1}.weight`, [D]]]);
    add(layerBlock(i, 'ln1.b'), false, [[`${l.ln1}.bias`, [D]]]);
    add(layerBlock(i, 'f1.w'), true, [[`${l.f1}.weight`, [F, D]]]);
    add(layerBlock(i, 'f1.b'), false, [[`${l.f1}.bias`, [F]]]);
    add(layerBlock(i, 'f2.w'), true, [[`${l.f2}.weight`, [D, F]]]);
    add(layerBlock(i, 'f2.b'), false, [[`${l.f2}.bias`, [D]]]);
    add(layerBlock(i, 'ln2.g'), false, [[`${l.ln2}.weight`, [D]]]);
    add(layerBlock(i, 'ln2.b'), false, [[`${l.ln2}.bias`, [D]]]);
  }
  add('pre.w', true, [[`${n.pre}.weight`, [D, D]]]);
  add('pre.b', false, [[`${n.pre}.bias`, [D]]]);
  add('cls.w', true, [[`${n.cls}.weight`, [c.numLabels, D]]]);
  add('cls.b', false, [[`${n.cls}.bias`, [c.numLabels]]]);
  const layout = layoutArena(blocks);
  const noDecay = blocks.filter((b) => !b.decay).flatMap((b) => b.tensors.map((t) => t.name));
  const headNames = c.arch === 'distilbert'
    ? [`${n.pre}.weight`, `${n.pre}.bias`, `${n.cls}.weight`, `${n.cls}.bias`]
    : [`${n.cls}.weight`, `${n.cls}.bias`];
  return { layout, prefix: n.prefix, headNames, noDecay };
}
