// `tunelab init-model`: a seeded random-init model folder of any shape with the standard uncased WordPiece vocabulary.
import { parseArgs } from 'node:util';
import type { EncoderConfig } from '../../engine/model/config.ts';
import { exportModelFolder, initModel } from '../../engine/model/folder.ts';
import { numFlag, processIO, UsageError, type CommandIO } from '../io.ts';
import { standardTokenizerFiles, writeModelFolder } from '../node-model.ts';

const USAGE = `usage: tunelab init-model --arch distilbert|bert [--dim 768 --layers 6 --heads 12 --ffn 3072]
  [--max-positions 512] [--dropout 0.1] --seed S --out DIR
The default shape is distilbert-base-uncased (bert: 12 layers); the vocabulary is the uncased WordPiece one (30522).`;

export async function initModelCommand(argv: string[], io: CommandIO = processIO): Promise<number> {
  try {
    const { values } = parseArgs({
      args: argv, strict: true,
      options: {
        arch: { type: 'string' }, dim: { type: 'string' }, layers: { type: 'string' }, heads: { type: 'string' }, ffn: { type: 'string' },
        'max-positions': { type: 'string' }, dropout: { type: 'string' }, seed: { type: 'string' }, out: { type: 'string' }, help: { type: 'boolean' },
      },
    });
    if (values.help) { io.stdout(USAGE); return 0; }
    const arch = values.arch ?? 'distilbert';
    if (arch !== 'distilbert' && arch !== 'bert') throw new UsageError(`--arch must be distilbert or bert, got "${arch}"`);
    if (!values.out) throw new UsageError('--out DIR is required');
    const dim = numFlag('dim', values.dim, true) ?? 768;
    const heads = numFlag('heads', values.heads, true) ?? 12;
    if (dim < 1 || heads < 1 || dim % heads !== 0) throw new UsageError(`--dim ${dim} must be a positive multiple of --heads ${heads}`);
    const dropout = numFlag('dropout', values.dropout, false) ?? 0.1;
    const tokenizer = await standardTokenizerFiles();
    const vocabSize = new TextDecoder().decode(tokenizer.get('vocab.txt')).split('\n').filter((l) => l.length > 0).length;
    const config: EncoderConfig = {
      arch, vocabSize, hidden: dim, heads,
      layers: numFlag('layers', values.layers, true) ?? (arch === 'bert' ? 12 : 6),
      ffn: numFlag('ffn', values.ffn, true) ?? 4 * dim,
      maxPositions: numFlag('max-positions', values['max-positions'], true) ?? 512,
      typeVocab: arch === 'bert' ? 2 : 0, layerNormEps: 1e-12, hiddenDropout: dropout, attentionDropout: dropout,
      classifierDropout: arch === 'bert' ? dropout : 0.2, numLabels: 2, initializerRange: 0.02, padTokenId: 0,
    };
    const seed = numFlag('seed', values.seed, true) ?? 0;
    const { params, arena } = initModel(config, seed);
    await writeModelFolder(values.out, exportModelFolder(config, params, arena, tokenizer));
    const count = [...params.layout.tensors.values()].reduce((n, t) => n + t.count, 0);
    io.stderr(`init-model: ${arch} dim ${dim} layers ${config.layers} heads ${heads} ffn ${config.ffn}: ${(count / 1e6).toFixed(2)}M parameters -> ${values.out}`);
    return 0;
  } catch (e) {
    io.stderr(`init-model: ${(e as Error).message}`);
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) { io.stderr(USAGE); return 2; }
    return 1;
  }
}
