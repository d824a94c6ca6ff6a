// TuneLab's tokenizer against Python `tokenizers` (golden ids from test/golden/make_tokenizer_golden.py) on
// 600 IMDB reviews, plus the [CLS]/[SEP]/padding/truncation contract the engine relies on.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TextTokenizer } from '../../src/data/tokenize.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const TOK_DIR = resolve(ROOT, 'public/tokenizer/bert-base-uncased');
const IMDB_TRAIN = resolve(ROOT, '../shared/data/imdb/train.jsonl.gz');

function loadTokenizer(): TextTokenizer {
  return TextTokenizer.fromFiles({
    tokenizerJson: readFileSync(resolve(TOK_DIR, 'tokenizer.json'), 'utf8'),
    tokenizerConfigJson: readFileSync(resolve(TOK_DIR, 'tokenizer_config.json'), 'utf8'),
  });
}

interface GoldenRow {
  index: number;
  id: string;
  label: number;
  text_sha256: string;
  ids: number[];
}
interface Golden {
  tokenizer_sha256: string;
  max_length: number;
  rows: GoldenRow[];
}

describe('TextTokenizer', () => {
  const tok = loadTokenizer();

  it('reads the special ids and vocabulary size of bert-base-uncased', () => {
    expect([tok.clsId, tok.sepId, tok.padId, tok.vocabSize]).toEqual([101, 102, 0, 30522]);
  });

  it('adds exactly one [CLS] and one [SEP], pads with 0, truncates to maxLen keeping the first maxLen-2 pieces', () => {
    const long = Array.from({ length: 50 }, (_, i) => `word${i}`).join(' ');
    const pieces = tok.wordPieces(long);
    expect(pieces.length).toBeGreaterThan(20);
    const enc = tok.encodeAll(['Hello world!', long, ''], 12);
    expect(enc.ids).toBeInstanceOf(Uint16Array);
    expect(Array.from(enc.lengths)).toEqual([5, 12, 2]);
    expect(Array.from(enc.fullLengths)).toEqual([5, pieces.length + 2, 2]);
    expect(Array.from(enc.ids.subarray(0, 12))).toEqual([101, 7592, 2088, 999, 102, 0, 0, 0, 0, 0, 0, 0]);
    expect(Array.from(enc.ids.subarray(12, 24))).toEqual([101, ...pieces.slice(0, 10), 102]);
    expect(Array.from(enc.ids.subarray(24, 36))).toEqual([101, 102, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    for (let r = 0; r < 3; r++) {
      const row = Array.from(enc.ids.subarray(r * 12, r * 12 + (enc.lengths[r] ?? 0)));
      expect(row.filter((x) => x === 101)).toHaveLength(1);
      expect(row.filter((x) => x === 102)).toHaveLength(1);
    }
  });

  it('reports progress', () => {
    const calls: [number, number][] = [];
    tok.encodeAll(Array.from({ length: 300 }, () => 'ok'), 8, (d, t) => calls.push([d, t]));
    expect(calls).toEqual([[256, 300], [300, 300]]);
  });

  it('gives ids identical to Python tokenizers on 600 IMDB reviews (max_length 192)', () => {
    expect(existsSync(IMDB_TRAIN), `IMDB train not found at ${IMDB_TRAIN} (../shared/data/imdb/)`).toBe(true);
    const golden = JSON.parse(gunzipSync(readFileSync(resolve(ROOT, 'test/golden/tokenizer/imdb-600.json.gz'))).toString('utf8')) as Golden;
    const tokenizerJson = readFileSync(resolve(TOK_DIR, 'tokenizer.json'));
    expect(createHash('sha256').update(tokenizerJson).digest('hex'), 'tokenizer.json changed: re-run make_tokenizer_golden.py').toBe(golden.tokenizer_sha256);
    const lines = gunzipSync(readFileSync(IMDB_TRAIN)).toString('utf8').split('\n').filter((l) => l !== '');
    const rows = golden.rows.map((g) => JSON.parse(lines[g.index] ?? 'null') as { text: string; id: string });
    expect(golden.rows).toHaveLength(600);
    expect(new Set(golden.rows.map((g) => g.label))).toEqual(new Set([0, 1]));
    const maxLen = golden.max_length;
    const enc = tok.encodeAll(rows.map((r) => r.text), maxLen);
    let mismatches = 0;
    let first = '';
    golden.rows.forEach((g, i) => {
      const row = rows[i];
      expect(row?.id).toBe(g.id);
      expect(createHash('sha256').update(row?.text ?? '').digest('hex')).toBe(g.text_sha256);
      const ours = Array.from(enc.ids.subarray(i * maxLen, i * maxLen + (enc.lengths[i] ?? 0)));
      if (ours.length !== g.ids.length || ours.some((v, k) => v !== g.ids[k])) {
        mismatches++;
        if (first === '') {
          const k = ours.findIndex((v, j) => v !== g.ids[j]);
          first = `row ${g.index} (${g.id}) differs at token ${k}: ours ${JSON.stringify(ours.slice(Math.max(0, k - 3), k + 4))} python ${
            JSON.stringify(g.ids.slice(Math.max(0, k - 3), k + 4))}; text: ${JSON.stringify(row?.text.slice(0, 200))}`;
        }
      }
    });
    expect(mismatches, first).toBe(0);
  });
});
