// The encoder configuration the engine runs, read from a Hugging Face config.json (DistilBERT or BERT).
// Field names follow HF; every value a user's file can get wrong is checked with the field named in the error.

export type Arch = 'distilbert' | 'bert';

export interface EncoderConfig {
  arch: Arch;
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  ffn: number;
  maxPositions: number;
  /** BERT token-type vocabulary (0 for DistilBERT). */
  typeVocab: number;
  layerNormEps: number;
  hiddenDropout: number;
  attentionDropout: number;
  /** Dropout before the classifier (DistilBERT seq_classif_dropout, BERT classifier_dropout ?? hidden_dropout_prob). */
  classifierDropout: number;
  numLabels: number;
  initializerRange: number;
  padTokenId: number;
}

export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
}

type Json = Record<string, unknown>;

function num(cfg: Json, field: string, source: string, fallback?: number, check: (v: number) => boolean = (v) => Number.isInteger(v) && v > 0): number {
  const v = cfg[field] ?? fallback;
  if (typeof v !== 'number' || !check(v)) throw new ModelConfigError(`${source}: field "${field}" must be ${check.name === 'prob' ? 'a probability in [0, 1)' : 'a positive integer'}, got ${JSON.stringify(cfg[field])}`);
  return v;
}
const prob = (v: number): boolean => v >= 0 && v < 1;
const positive = (v: number): boolean => v > 0;

export function parseModelConfig(json: unknown, source = 'config.json'): EncoderConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ModelConfigError(`${source}: not a JSON object`);
  const cfg = json as Json;
  const type = cfg.model_type;
  const numLabels = typeof cfg.num_labels === 'number' ? cfg.num_labels : cfg.id2label && typeof cfg.id2label === 'object' ? Object.keys(cfg.id2label).length : 2;
  let out: EncoderConfig;
  if (type === 'distilbert') {
    const act = cfg.activation ?? 'gelu';
    if (act !== 'gelu') throw new ModelConfigError(`${source}: field "activation" is ${JSON.stringify(act)}; only "gelu" is supported`);
    if (cfg.sinusoidal_pos_embds === true) throw new ModelConfigError(`${source}: field "sinusoidal_pos_embds" true is not supported`);
    out = {
      arch: 'distilbert',
      vocabSize: num(cfg, 'vocab_size', source),
      hidden: num(cfg, 'dim', source),
      layers: num(cfg, 'n_layers', source),
      heads: num(cfg, 'n_heads', source),
      ffn: num(cfg, 'hidden_dim', source),
      maxPositions: num(cfg, 'max_position_embeddings', source, 512),
      typeVocab: 0,
      layerNormEps: 1e-12,
      hiddenDropout: num(cfg, 'dropout', source, 0.1, prob),
      attentionDropout: num(cfg, 'attention_dropout', source, 0.1, prob),
      classifierDropout: num(cfg, 'seq_classif_dropout', source, 0.2, prob),
      numLabels,
      initializerRange: num(cfg, 'initializer_range', source, 0.02, positive),
      padTokenId: typeof cfg.pad_token_id === 'number' ? cfg.pad_token_id : 0,
    };
  } else if (type === 'bert') {
    const act = cfg.hidden_act ?? 'gelu';
    if (act !== 'gelu') throw new ModelConfigError(`${source}: field "hidden_act" is ${JSON.stringify(act)}; only "gelu" (exact erf GELU) is supported`);
    const pet = cfg.position_embedding_type ?? 'absolute';
    if (pet !== 'absolute') throw new ModelConfigError(`${source}: field "position_embedding_type" is ${JSON.stringify(pet)}; only "absolute" is supported`);
    const hiddenDropout = num(cfg, 'hidden_dropout_prob', source, 0.1, prob);
    out = {
      arch: 'bert',
      vocabSize: num(cfg, 'vocab_size', source),
      hidden: num(cfg, 'hidden_size', source),
      layers: num(cfg, 'num_hidden_layers', source),
      heads: num(cfg, 'num_attention_heads', source),
      ffn: num(cfg, 'intermediate_size', source),
      maxPositions: num(cfg, 'max_position_embeddings', source, 512),
      typeVocab: num(cfg, 'type_vocab_size', source, 2),
      layerNormEps: num(cfg, 'layer_norm_eps', source, 1e-12, positive),
      hiddenDropout,
      attentionDropout: num(cfg, 'attention_probs_dropout_prob', source, 0.1, prob),
      classifierDropout: typeof cfg.classifier_dropout === 'number' ? num(cfg, 'classifier_dropout', source, 0.1, prob) : hiddenDropout,
      numLabels,
      initializerRange: num(cfg, 'initializer_range', source, 0.02, positive),
      padTokenId: typeof cfg.pad_token_id === 'number' ? cfg.pad_token_id : 0,
    };
  } else {
    throw new ModelConfigError(`${source}: field "model_type" is ${JSON.stringify(type)}; TuneLab trains "distilbert" and "bert" encoders`);
  }
  if (out.hidden % out.heads !== 0) throw new ModelConfigError(`${source}: hidden size ${out.hidden} is not divisible by the number of heads ${out.heads}`);
  if (out.numLabels < 2) throw new ModelConfigError(`${source}: num_labels must be at least 2, got ${out.numLabels}`);
  return out;
}

/** The config.json TuneLab writes for a sequence classifier (loadable by transformers' from_pretrained). */
export function toHfConfig(c: EncoderConfig): Record<string, unknown> {
  const names = Array.from({ length: c.numLabels }, (_, i): string => (c.numLabels === 2 ? (['NEGATIVE', 'POSITIVE'][i] ?? '') : `LABEL_${i}`));
  const labels = { id2label: Object.fromEntries(names.map((n, i) => [String(i), n])) };
  const label2id: Record<string, number> = Object.fromEntries(names.map((n, i) => [n, i]));
  if (c.arch === 'distilbert') {
    return {
      architectures: ['DistilBertForSequenceClassification'], model_type: 'distilbert',
      vocab_size: c.vocabSize, dim: c.hidden, n_layers: c.layers, n_heads: c.heads, hidden_dim: c.ffn,
      max_position_embeddings: c.maxPositions, dropout: c.hiddenDropout, attention_dropout: c.attentionDropout,
      seq_classif_dropout: c.classifierDropout, activation: 'gelu', initializer_range: c.initializerRange,
      sinusoidal_pos_embds: false, tie_weights_: true, pad_token_id: c.padTokenId, qa_dropout: 0.1,
      ...labels, label2id, torch_dtype: 'float32',
    };
  }
  return {
    architectures: ['BertForSequenceClassification'], model_type: 'bert',
    vocab_size: c.vocabSize, hidden_size: c.hidden, num_hidden_layers: c.layers, num_attention_heads: c.heads,
    intermediate_size: c.ffn, max_position_embeddings: c.maxPositions, type_vocab_size: c.typeVocab,
    layer_norm_eps: c.layerNormEps, hidden_dropout_prob: c.hiddenDropout, attention_probs_dropout_prob: c.attentionDropout,
    classifier_dropout: c.classifierDropout, hidden_act: 'gelu', initializer_range: c.initializerRange,
    position_embedding_type: 'absolute', pad_token_id: c.padTokenId, ...labels, label2id, torch_dtype: 'float32',
  };
}
