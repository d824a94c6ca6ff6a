// The original aclImdb_v1.tar.gz layout: aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt (unsup/ ignored).
// Rows come out negatives first, then positives, each by review id: the order of HF `stanfordnlp/imdb`.
import { parseTar } from 'nanotar';
import { decodeUtf8 } from './bytes.ts';
import { DataError } from './errors.ts';
import type { LabelledTexts } from './types.ts';

const MEMBER = /(?:^|\/)(train|test)\/(pos|neg)\/(\d+)_(\d+)\.txt$/;

/** True when the bytes are a tar archive (POSIX "ustar" magic at offset 257). */
export function isTar(bytes: Uint8Array): boolean {
  const magic = [0x75, 0x73, 0x74, 0x61, 0x72]; // "ustar"
  return bytes.length > 262 && magic.every((b, i) => bytes[257 + i] === b);
}

export interface ImdbArchive {
  train: LabelledTexts;
  test?: LabelledTexts;
}

export function readImdbTar(file: string, tarBytes: Uint8Array): ImdbArchive {
  const members: { split: string; label: 0 | 1; id: number; text: string }[] = [];
  for (const item of parseTar(tarBytes)) {
    const m = MEMBER.exec(item.name);
    if (m === null || item.data === undefined) continue;
    members.push({
      split: m[1] ?? '',
      label: m[2] === 'pos' ? 1 : 0,
      id: Number(m[3]),
      text: decodeUtf8(item.data, `${file}/${item.name}`),
    });
  }
  members.sort((a, b) => a.label - b.label || a.id - b.id);
  const pick = (split: string): LabelledTexts | undefined => {
    const rows = members.filter((r) => r.split === split);
    return rows.length === 0 ? undefined : { texts: rows.map((r) => r.text), labels: Uint8Array.from(rows.map((r) => r.label)) };
  };
  const train = pick('train');
  if (train === undefined) throw new DataError({ file }, 'tar archive has no aclImdb/train/{pos,neg}/<id>_<rating>.txt members');
  const test = pick('test');
  return test === undefined ? { train } : { train, test };
}
