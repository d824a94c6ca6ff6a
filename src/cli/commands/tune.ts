// `tunelab tune`: a hyperparameter study (TPE or random search, optional median/ASHA pruning) over fine-tuning runs
// of one model folder on one dataset, then the final model and a report. Progress goes to stderr; stdout gets ONE
// JSON line at the end (shape: TuneJson below).
//
// The study folder (--study-dir, default ./tunelab-study) holds everything a resume needs, each file replaced
// atomically (temp file + fsync + rename):
//   study.json          the Study state (FileStudyStore; one write per change)
//   tune-settings.json  what defines the data and the trials (model, data, max-len, limits, seeds, ...); a resume
//                       must not change them
//   trials.json         TrialSummary per finished trial (steps, curves), written before the trial is told
//   best-trial/         the best complete trial's weights as a Hugging Face folder (+ tunelab-trial.json), written
//                       before that trial is told, so a crash right after loses nothing
//   best-model/         the final model (or --out), report.json, report.html, best_config.json
//   mlflow-outbox.jsonl pending MLflow operations (with --mlflow), delivered by a later run if the server was down
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createFileOutboxStore, readArtifactFile } from '../file-outbox.ts';
import { FileStudyStore } from '../file-study-store.ts';
import { DataError } from '../../data/errors.ts';
import { prepareDataset } from '../../data/prepare.ts';
import { LocalTrialExecutor } from '../../coord/executor.ts';
import { concatSplits, evaluateSplit } from '../../coord/final-model.ts';
import { MlflowObserver, studyIdFor } from '../../coord/mlflow-observer.ts';
import { mapTrialParams } from '../../coord/params.ts';
import { openStudy, StudyExistsError, StudyRunner, type BestWeightsStore, type KeptWeights, type StudyObserver, type TrialSummary, type TrialSummaryStore } from '../../coord/study-runner.ts';
import { exportModelFolder, loadModelFolder } from '../../engine/model/folder.ts';
import { DEFAULT_TRIAL, runTrial, type TrialSettings } from '../../engine/train/run.ts';
import { buildReport, reportToJson, type FinalModelReport } from '../../export/report.ts';
import { renderReportHtml } from '../../export/report-html.ts';
import { SearchSpaceError, type Params } from '../../search/space.ts';
import type { PrunerConfig, SamplerConfig } from '../../search/study.ts';
import { MlflowTracker, NoopTracker, type StudyTracker } from '../../tracking/tracker.ts';
import type { MlflowAuth } from '../../tracking/mlflow-client.ts';
import { numFlag, processIO, UsageError, type CommandIO } from '../io.ts';
import { NodeDataFileSystem, NodeShardStore, readTokenizerFiles, shardCacheDir } from '../node-files.ts';
import { openNodeDevice } from '../node-gpu.ts';
import { readModelFolder, writeModelFolder } from '../node-model.ts';

const USAGE = `usage: tunelab tune --model DIR --data SRC --trials N [--space FILE] [--enqueue FILE] [--sampler tpe|random]
  [--startup-trials N] [--pruner none|median|asha] [--max-minutes M] [--study-dir D] [--resume] [--seed S] [--json]
  [--max-len 192] [--train-limit N] [--val-limit N] [--test-limit N] [--val-fraction 0.1] [--epochs-default E]
  [--evals-per-epoch 2] [--retrain] [--mlflow URL] [--mlflow-wait SECONDS] [--study-name NAME] [--out DIR] [--cache-dir D]
--space FILE: a JSON search space (default: learning_rate loguniform 1e-5..1e-3, batch_size 16|32, weight_decay
  loguniform 1e-6..1e-2). --enqueue FILE: a JSON array of configurations to try first (partial ones are completed by
  the sampler). --startup-trials: random trials before TPE models the history (HyperOpt's default 20).
--mlflow URL streams every trial to an MLflow server (auth from MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and
  MLFLOW_TRACKING_PASSWORD); --mlflow-wait: how long to wait at the end for delivery (default 60; the rest stays
  in <study-dir>/mlflow-outbox.jsonl for the next run).`;

const STRING_FLAGS = ['model', 'data', 'trials', 'space', 'enqueue', 'sampler', 'startup-trials', 'pruner', 'max-minutes', 'study-dir', 'seed', 'max-len',
  'train-limit', 'val-limit', 'test-limit', 'val-fraction', 'epochs-default', 'evals-per-epoch', 'mlflow', 'mlflow-wait', 'study-name', 'out', 'cache-dir'];

/** What defines the data and the trials: fixed when the study is created. */
interface TuneSettings {
  version: 1;
  model: string;
  data: string;
  maxLen: number;
  seed: number;
  valFraction: number;
  trainLimit: number | null;
  valLimit: number | null;
  testLimit: number | null;
  epochsDefault: number;
  evalsPerEpoch: number;
}

export interface TuneTrialJson {
  number: number;
  params: Params;
  status: string;
  reason: string | null;
  message: string | null;
  value: number | null;
  best_val_accuracy: number | null;
  steps: number | null;
  total_steps: number | null;
  seconds: number | null;
  attempts: number;
}

/** The one line on stdout. */
export interface TuneJson {
  study: string;
  study_dir: string;
  resumed: boolean;
  end_reason: string;
  trials: TuneTrialJson[];
  best: { number: number; params: Params; value: number | null; best_val_accuracy: number | null } | null;
  final_model: { mode: FinalModelReport['mode']; trial: number; path: string | null; test_accuracy: number | null; test_loss: number | null; test_rows: number } | null;
  test_accuracy: number | null;
  report: { json: string; html: string } | null;
  edge_warnings: string[];
  pruning: { steps_trained: number; steps_saved: number };
  mlflow: { url: string; study_id: string; pending: number; delivered: number; dropped: number; last_error: string | null } | null;
  seconds: number;
}

async function atomicWrite(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

const jsonNumbers = (_k: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v);

/** trials.json: every finished trial's summary, rewritten atomically on each change. */
class FileTrialSummaryStore implements TrialSummaryStore {
  private readonly byId = new Map<number, TrialSummary>();
  constructor(readonly path: string) {}
  async load(): Promise<readonly TrialSummary[]> {
    const json = await readJson(this.path);
    if (json === undefined) return [];
    const trials = (json as { trials?: unknown }).trials;
    if (!Array.isArray(trials)) throw new Error(`${this.path}: expected {"version":1,"trials":[...]}`);
    trials.forEach((t: unknown, i) => {
      const id = (t as { trialId?: unknown } | null)?.trialId;
      if (typeof id !== 'number') throw new Error(`${this.path}: trials[${i}].trialId: expected a number`);
      const s = t as TrialSummary;
      // null in the file is a non-finite number
      this.byId.set(id, { ...s, evals: s.evals.map((e) => ({ ...e, valLoss: e.valLoss ?? NaN, valAccuracy: e.valAccuracy ?? NaN })) });
    });
    return [...this.byId.values()];
  }
  async save(summary: TrialSummary): Promise<void> {
    this.byId.set(summary.trialId, summary);
    const trials = [...this.byId.values()].sort((a, b) => a.trialId - b.trialId);
    await atomicWrite(this.path, JSON.stringify({ version: 1, trials }, jsonNumbers));
  }
}

const TRIAL_MARKER = 'tunelab-trial.json';

/** best-trial/: the best complete trial's weights as a model folder, with the trial it came from. */
class FolderBestWeights implements BestWeightsStore {
  constructor(readonly dir: string, private readonly base: ReturnType<typeof loadModelFolder>) {}
  async kept(): Promise<KeptWeights | undefined> {
    const json = await readJson(join(this.dir, TRIAL_MARKER)) as { trialId?: unknown; value?: unknown } | undefined;
    if (json === undefined || typeof json.trialId !== 'number' || typeof json.value !== 'number') return undefined;
    return { trialId: json.trialId, value: json.value };
  }
  async save(trial: KeptWeights & { settings: TrialSettings; modelOverrides: object }, weights: Float32Array): Promise<void> {
    const config = { ...this.base.config, ...trial.modelOverrides };
    const files = exportModelFolder(config, this.base.params, weights, this.base.tokenizerFiles);
    files.set(TRIAL_MARKER, new TextEncoder().encode(`${JSON.stringify({ trialId: trial.trialId, value: trial.value, settings: trial.settings }, null, 1)}\n`));
    await writeModelFolder(this.dir, files);
  }
}

async function tunelabVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Math.abs(v) < 1e-3 ? v.toExponential(2) : String(Number(v.toPrecision(4)));
  return String(v);
}

function paramsText(p: Params): string {
  return Object.entries(p).map(([k, v]) => `${k}=${fmt(v)}`).join(' ');
}

function mlflowAuth(env: NodeJS.ProcessEnv): MlflowAuth | undefined {
  const token = env.MLFLOW_TRACKING_TOKEN;
  if (token) return { kind: 'bearer', token };
  const username = env.MLFLOW_TRACKING_USERNAME, password = env.MLFLOW_TRACKING_PASSWORD;
  if (username && password !== undefined) return { kind: 'basic', username, password };
  return undefined;
}

async function readJsonFlag(flag: string, path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--${flag} ${path}: cannot read it (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new UsageError(`--${flag} ${path}: not valid JSON (${(e as Error).message})`);
  }
}

function stderrObserver(io: CommandIO): StudyObserver {
  const lastLog = new Map<number, number>();
  return {
    studyStarted: (e) => io.stderr(`tune: study "${e.state.name}" ${e.resumed ? `resumed with ${e.state.trials.filter((t) => t.state === 'complete' || t.state === 'pruned' || t.state === 'failed').length} finished trials` : 'created'}`),
    trialStarted: (e) => io.stderr(`tune: trial ${e.trialId} started${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} on ${e.executor}: ${paramsText(e.params)}`),
    trialPlan: (e) => io.stderr(`tune: trial ${e.trialId} memory plan: micro-batch ${e.plan.micro} x ${e.plan.accumulation}, ${(e.plan.bytes.total / 2 ** 20).toFixed(1)} MiB`),
    trialProgress: (e) => {
      const p = e.points.at(-1);
      const last = lastLog.get(e.trialId);
      if (!p || (last !== undefined && performance.now() - last < 1000)) return;
      lastLog.set(e.trialId, performance.now());
      io.stderr(`tune: trial ${e.trialId} step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(4)} lr ${p.lr.toExponential(2)} ${p.samplesPerSecond.toFixed(1)} samples/s`);
    },
    trialEval: (e) => io.stderr(`tune: trial ${e.trialId} eval ${e.evalIndex} at step ${e.point.step}: val_loss ${e.point.valLoss.toFixed(4)} val_accuracy ${e.point.valAccuracy.toFixed(4)}${e.decision === 'prune' ? ' -> pruned' : ''}`),
    trialEnded: (e) => {
      const s = e.summary;
      const what = s.status === 'failed' ? `failed (${s.failureReason ?? 'error'}): ${s.message ?? ''}` : s.status === 'stopped' ? 'stopped (it re-runs on resume)' : `${s.status}: value ${fmt(s.value)}`;
      io.stderr(`tune: trial ${e.trialId} ${what} after ${s.steps} steps, ${s.seconds.toFixed(1)} s${e.best ? `; best so far: trial ${e.best.id} (${fmt(e.best.value)})` : ''}`);
    },
    studyEnded: (e) => io.stderr(`tune: study ended (${e.reason}${e.error ? `: ${e.error}` : ''})`),
  };
}

export async function tuneCommand(argv: string[], io: CommandIO = processIO): Promise<number> {
  const t0 = performance.now();
  let tracker: StudyTracker = new NoopTracker();
  try {
    const { values } = parseArgs({
      args: argv, strict: true,
      options: {
        ...Object.fromEntries(STRING_FLAGS.map((k) => [k, { type: 'string' as const }])),
        resume: { type: 'boolean' }, retrain: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' },
      },
    });
    const v = values as Record<string, string | boolean | undefined>;
    const str = (k: string): string | undefined => (typeof v[k] === 'string' ? v[k] : undefined);
    if (v.help) { io.stdout(USAGE); return 0; }
    const resume = v.resume === true;
    const studyDir = resolve(str('study-dir') ?? 'tunelab-study');
    const settingsPath = join(studyDir, 'tune-settings.json');
    const savedSettings = resume ? (await readJson(settingsPath)) as TuneSettings | undefined : undefined;

    // Data- and trial-defining settings: from the flags, or (resume) from the study folder, where a flag that
    // disagrees is an error rather than a silently different study.
    const given = {
      model: str('model'), data: str('data'), maxLen: numFlag('max-len', str('max-len'), true), seed: numFlag('seed', str('seed'), true),
      valFraction: numFlag('val-fraction', str('val-fraction'), false), trainLimit: numFlag('train-limit', str('train-limit'), true),
      valLimit: numFlag('val-limit', str('val-limit'), true), testLimit: numFlag('test-limit', str('test-limit'), true),
      epochsDefault: numFlag('epochs-default', str('epochs-default'), true), evalsPerEpoch: numFlag('evals-per-epoch', str('evals-per-epoch'), true),
    };
    let settings: TuneSettings;
    if (savedSettings) {
      settings = savedSettings;
      for (const [k, val] of Object.entries(given)) {
        const saved = (savedSettings as unknown as Record<string, unknown>)[k];
        const same = k === 'model' || k === 'data' ? val === undefined || resolve(String(val)) === resolve(String(saved)) : val === undefined || val === saved;
        if (!same) throw new UsageError(`--resume: this study was created with ${k} = ${JSON.stringify(saved)}, not ${JSON.stringify(val)} (see ${settingsPath})`);
      }
    } else {
      if (!given.model || !given.data) throw new UsageError('--model and --data are required');
      settings = {
        version: 1, model: resolve(given.model), data: resolve(given.data), maxLen: given.maxLen ?? 192, seed: given.seed ?? 0, valFraction: given.valFraction ?? 0.1,
        trainLimit: given.trainLimit ?? null, valLimit: given.valLimit ?? null, testLimit: given.testLimit ?? null,
        epochsDefault: given.epochsDefault ?? 1, evalsPerEpoch: given.evalsPerEpoch ?? 2,
      };
    }
    const trials = numFlag('trials', str('trials'), true);
    if (trials === undefined && !savedSettings) throw new UsageError('--trials N is required');
    if (trials !== undefined && trials < 1) throw new UsageError(`--trials must be >= 1, got ${trials}`);
    const maxMinutes = numFlag('max-minutes', str('max-minutes'), false);
    const sampler = str('sampler') ?? 'tpe';
    if (sampler !== 'tpe' && sampler !== 'random') throw new UsageError(`--sampler must be tpe or random, got "${sampler}"`);
    const pruner = str('pruner') ?? 'median';
    if (pruner !== 'none' && pruner !== 'median' && pruner !== 'asha') throw new UsageError(`--pruner must be none, median or asha, got "${pruner}"`);
    const startup = numFlag('startup-trials', str('startup-trials'), true);
    const samplerConfig: SamplerConfig = sampler === 'random' ? { kind: 'random', seed: settings.seed } : { kind: 'tpe', seed: settings.seed, ...(startup !== undefined ? { nStartupJobs: startup } : {}) };
    // Pruning steps are evaluation numbers (1, 2, ...): comparable across batch sizes. Median: 3 complete trials
    // and one evaluation before anything is pruned; ASHA: rungs at evaluations 1, 3, 9, ...
    const prunerConfig: PrunerConfig = pruner === 'none' ? { kind: 'none' } : pruner === 'median' ? { kind: 'median', nStartupTrials: 3, nWarmupSteps: 1 } : { kind: 'asha', minResource: 1, reductionFactor: 3 };
    const space = str('space') !== undefined ? await readJsonFlag('space', str('space')!) : undefined;
    const enqueueJson = str('enqueue') !== undefined ? await readJsonFlag('enqueue', str('enqueue')!) : undefined;
    if (enqueueJson !== undefined && !(Array.isArray(enqueueJson) && enqueueJson.every((c) => typeof c === 'object' && c !== null && !Array.isArray(c)))) {
      throw new UsageError(`--enqueue ${str('enqueue')}: expected a JSON array of objects (parameter name -> value)`);
    }
    const studyName = str('study-name') ?? basename(studyDir);

    const opened = await openStudy({
      store: new FileStudyStore(join(studyDir, 'study.json')),
      resume,
      create: {
        name: studyName, sampler: samplerConfig, pruner: prunerConfig,
        ...(space !== undefined ? { space: space as Record<string, unknown> } : {}),
        budget: { ...(trials !== undefined ? { maxTrials: trials } : {}), ...(maxMinutes !== undefined ? { maxWallMinutes: maxMinutes } : {}) },
      },
      ...(enqueueJson !== undefined ? { enqueue: enqueueJson as Params[] } : {}),
    });
    const study = opened.study;
    if (!opened.resumed) await atomicWrite(settingsPath, `${JSON.stringify(settings, null, 1)}\n`);
    else if (trials !== undefined && study.state.budget.maxTrials !== trials) io.stderr(`tune: --trials ${trials} ignored: the stored study's budget is ${study.state.budget.maxTrials ?? 'unlimited'} trials`);

    // Model and data.
    const base = loadModelFolder(await readModelFolder(settings.model), settings.seed);
    if (base.initialized.length) io.stderr(`tune: initialised (seed ${settings.seed}): ${base.initialized.join(', ')}`);
    const limited = settings.trainLimit !== null || settings.valLimit !== null || settings.testLimit !== null;
    const data = await prepareDataset({
      fs: new NodeDataFileSystem(), source: settings.data, tokenizerFiles: await readTokenizerFiles(settings.model), maxLen: settings.maxLen, seed: settings.seed,
      valFraction: settings.valFraction,
      ...(settings.trainLimit !== null ? { trainLimit: settings.trainLimit } : {}), ...(settings.valLimit !== null ? { valLimit: settings.valLimit } : {}),
      // with limits, the test split is only tokenized when asked for; a huge limit keeps all of it
      ...(limited ? { testLimit: settings.testLimit ?? Number.MAX_SAFE_INTEGER } : {}),
      store: new NodeShardStore(shardCacheDir(str('cache-dir'))),
    });
    io.stderr(`tune: data ${data.train.count} train / ${data.validation.count} validation / ${data.test?.count ?? 0} test rows (${data.cached ? 'cached' : 'tokenized'} in ${data.seconds.toFixed(1)} s)`);
    const gpu = await openNodeDevice();
    io.stderr(`tune: adapter ${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`.trimEnd());

    const baseSettings: TrialSettings = { ...DEFAULT_TRIAL, seed: settings.seed, seqLen: settings.maxLen, epochs: settings.epochsDefault, evalsPerEpoch: settings.evalsPerEpoch };
    const studyId = studyIdFor(study.state);
    const version = await tunelabVersion();
    const observers: StudyObserver[] = [stderrObserver(io)];
    let mlflowObserver: MlflowObserver | undefined;
    const mlflowUrl = str('mlflow');
    if (mlflowUrl !== undefined) {
      const auth = mlflowAuth(process.env);
      let lastError = '';
      tracker = await MlflowTracker.open({
        url: mlflowUrl, store: createFileOutboxStore(join(studyDir, 'mlflow-outbox.jsonl'), { onWarning: (m) => io.stderr(`tune: mlflow outbox: ${m}`) }),
        tunelabVersion: version, ...(auth ? { auth } : {}), resolveArtifact: readArtifactFile,
        onError: (e, info) => {
          const m = e instanceof Error ? e.message : String(e);
          if (m !== lastError || !info.willRetry) io.stderr(`tune: mlflow: ${m}${info.willRetry ? ` (retrying, attempt ${info.attempt})` : ' (dropped)'}`);
          lastError = m;
        },
      });
      mlflowObserver = new MlflowObserver(tracker, {
        studyId, model: basename(settings.model), datasetHash: data.cacheKey,
        settings: { max_len: settings.maxLen, seed: settings.seed, val_fraction: settings.valFraction, train_rows: data.train.count, val_rows: data.validation.count, test_rows: data.test?.count ?? 0, evals_per_epoch: settings.evalsPerEpoch, epochs_default: settings.epochsDefault, data: settings.data, model_path: settings.model },
      });
      observers.push(mlflowObserver);
      io.stderr(`tune: streaming to MLflow at ${mlflowUrl} (study id ${studyId})`);
    }

    const summaries = new FileTrialSummaryStore(join(studyDir, 'trials.json'));
    await summaries.load();
    const bestWeights = new FolderBestWeights(join(studyDir, 'best-trial'), base);
    const runner = new StudyRunner({
      opened, executors: [new LocalTrialExecutor('gpu0', gpu.device, base, { train: data.train, validation: data.validation })],
      baseSettings, observers, summaries, bestWeights,
      onObserverError: (e, where) => io.stderr(`tune: observer ${where}: ${e instanceof Error ? e.message : String(e)}`),
    });
    let interrupts = 0;
    const onSigint = (): void => {
      interrupts++;
      if (interrupts > 1) process.exit(130);
      io.stderr('tune: interrupted: stopping the running trial (it re-runs on --resume); press Ctrl-C again to quit at once');
      runner.stop();
    };
    process.on('SIGINT', onSigint);
    const outcome = await runner.run().finally(() => process.off('SIGINT', onSigint));
    if (outcome.reason === 'error') throw new Error(`the study stopped: ${outcome.error ?? 'unknown error'}`);

    // The final model: the best trial's kept weights (or its configuration retrained), tested once, saved.
    let final: FinalModelReport | null = null;
    const outDir = resolve(str('out') ?? join(studyDir, 'best-model'));
    const best = outcome.best;
    if (best && outcome.reason === 'budget') {
      const mapped = mapTrialParams(best.params, baseSettings);
      const config = { ...base.config, ...mapped.modelOverrides };
      let weights: Float32Array | undefined;
      let mode: FinalModelReport['mode'] = 'kept';
      const retrain = async (withValidation: boolean): Promise<Float32Array> => {
        const train = withValidation ? concatSplits(data.train, data.validation) : data.train;
        io.stderr(`tune: retraining trial ${best.id}'s configuration on ${withValidation ? 'train + validation' : 'train'} (${train.count} rows)`);
        const r = await runTrial(gpu.device, { config, params: base.params, arena: base.arena }, { train, validation: data.validation }, { ...mapped.settings, evalsPerEpoch: 1 }, {}, true);
        if (r.status !== 'complete' || !r.weights) throw new Error(`retraining trial ${best.id}'s configuration ${r.status}${r.failureReason ? ` (${r.failureReason})` : ''}: ${r.message ?? ''}`);
        return r.weights;
      };
      if (v.retrain === true) {
        weights = await retrain(true);
        mode = 'retrained';
      } else {
        const kept = await bestWeights.kept();
        if (kept?.trialId === best.id) {
          weights = loadModelFolder(await readModelFolder(bestWeights.dir), settings.seed).arena;
        } else {
          io.stderr(`tune: the weights of trial ${best.id} were not kept (found ${kept ? `trial ${kept.trialId}'s` : 'none'})`);
          weights = await retrain(false);
          mode = 'retrained-missing-weights';
        }
      }
      let test: { accuracy: number; loss: number; rows: number } | undefined;
      if (data.test && data.test.count > 0) {
        test = await evaluateSplit(gpu.device, config, base.params, weights, data.test, settings.maxLen, Math.min(mapped.settings.batchSize, 32));
        io.stderr(`tune: final model (trial ${best.id}, ${mode}): test accuracy ${test.accuracy.toFixed(4)} on ${test.rows} rows`);
      } else io.stderr('tune: the dataset has no test split: the final model is not tested');
      await writeModelFolder(outDir, exportModelFolder(config, base.params, weights, base.tokenizerFiles));
      io.stderr(`tune: saved the final model to ${outDir}`);
      final = { mode, trialNumber: best.id, testAccuracy: test?.accuracy ?? null, testLoss: test?.loss ?? null, testRows: test?.rows ?? 0, path: outDir };
    }

    // Report.
    const report = buildReport(outcome.state, await summaries.load(), {
      tunelabVersion: version, final,
      model: { path: settings.model, arch: base.config.arch, hidden: base.config.hidden, layers: base.config.layers, heads: base.config.heads, parameters: base.params.layout.size, initialized: base.initialized.join(', ') || 'none' },
      dataset: { source: settings.data, hash: data.cacheKey, train_rows: data.train.count, validation_rows: data.validation.count, test_rows: data.test?.count ?? 0, max_len: settings.maxLen, val_fraction: settings.valFraction },
      settings: { seed: settings.seed, epochs_default: settings.epochsDefault, evals_per_epoch: settings.evalsPerEpoch, adapter: `${gpu.adapterInfo.vendor} ${gpu.adapterInfo.architecture} ${gpu.adapterInfo.description}`.trim() },
    });
    const reportJson = reportToJson(report);
    const reportHtml = renderReportHtml(report);
    const reportJsonPath = join(studyDir, 'report.json'), reportHtmlPath = join(studyDir, 'report.html');
    await atomicWrite(reportJsonPath, reportJson);
    await atomicWrite(reportHtmlPath, reportHtml);
    const bestConfig = best ? { trial: best.id, value: best.value ?? null, params: best.params, settings: mapTrialParams(best.params, baseSettings) } : null;
    await atomicWrite(join(studyDir, 'best_config.json'), `${JSON.stringify(bestConfig, jsonNumbers, 1)}\n`);
    for (const w of report.edgeWarnings) io.stderr(`tune: warning: ${w.message}`);
    io.stderr(`tune: report: ${reportHtmlPath}`);

    let mlflowJson: TuneJson['mlflow'] = null;
    if (mlflowObserver && mlflowUrl !== undefined) {
      const enc = new TextEncoder();
      const refs = final ? await exportModelFolderNames(outDir) : [];
      mlflowObserver.finishStudy(outcome.reason === 'budget' ? 'complete' : 'stopped', {
        inline: [
          { name: 'report.json', bytes: enc.encode(reportJson), contentType: 'application/json' },
          { name: 'report.html', bytes: enc.encode(reportHtml), contentType: 'text/html' },
          { name: 'best_config.json', bytes: enc.encode(JSON.stringify(bestConfig, jsonNumbers, 1)), contentType: 'application/json' },
        ],
        refs,
      });
      const waitS = numFlag('mlflow-wait', str('mlflow-wait'), false) ?? 60;
      const r = await tracker.close(waitS * 1000);
      io.stderr(`tune: mlflow: ${r.delivered} operations delivered, ${r.pending} pending${r.pending ? ` (kept in ${join(studyDir, 'mlflow-outbox.jsonl')} for the next run)` : ''}, ${r.dropped} dropped`);
      mlflowJson = { url: mlflowUrl, study_id: studyId, pending: r.pending, delivered: r.delivered, dropped: r.dropped, last_error: r.lastError };
    }

    const byTrial = new Map(report.trials.map((t) => [t.number, t]));
    const json: TuneJson = {
      study: study.state.name, study_dir: studyDir, resumed: opened.resumed, end_reason: outcome.reason,
      trials: report.trials.map((t) => ({ number: t.number, params: t.params, status: t.status, reason: t.reason, message: t.message, value: t.value, best_val_accuracy: t.bestValAccuracy, steps: t.steps, total_steps: t.totalSteps, seconds: t.seconds, attempts: t.attempts })),
      best: best ? { number: best.id, params: best.params, value: best.value ?? null, best_val_accuracy: byTrial.get(best.id)?.bestValAccuracy ?? null } : null,
      final_model: final ? { mode: final.mode, trial: final.trialNumber, path: final.path, test_accuracy: final.testAccuracy, test_loss: final.testLoss, test_rows: final.testRows } : null,
      test_accuracy: final?.testAccuracy ?? null,
      report: { json: reportJsonPath, html: reportHtmlPath },
      edge_warnings: report.edgeWarnings.map((w) => w.message),
      pruning: { steps_trained: report.steps.trained, steps_saved: report.steps.savedByPruning },
      mlflow: mlflowJson, seconds: (performance.now() - t0) / 1000,
    };
    io.stdout(JSON.stringify(json, jsonNumbers));
    gpu.device.destroy();
    return outcome.reason === 'budget' ? 0 : 130;
  } catch (e) {
    await tracker.close(0).catch(() => undefined);
    io.stderr(`tune: ${(e as Error).message}`);
    if (e instanceof UsageError || e instanceof SearchSpaceError || e instanceof StudyExistsError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) io.stderr(USAGE);
      return 2;
    }
    return e instanceof DataError ? 2 : 1;
  }
}

/** The final model's files as artifact references under model/ (read when the outbox sends them). */
async function exportModelFolderNames(dir: string): Promise<{ name: string; ref: string; contentType: string }[]> {
  const names = (await readdir(dir)).sort();
  return names.map((n) => ({ name: `model/${n}`, ref: join(dir, n), contentType: n.endsWith('.json') ? 'application/json' : n.endsWith('.txt') ? 'text/plain' : 'application/octet-stream' }));
}
