// Turns outbox operations into MLflow REST calls. Idempotent by construction, so the outbox may retry
// any operation after a timeout whose request the server did in fact apply:
// - runs are found by tag (tunelab.study_id + tunelab.kind, or tunelab.trial_id) before one is created,
//   and those tags are set in the create call itself, so a created run is always findable. The first
//   time a process meets a study it lists all of the study's runs in one search (covering whatever an
//   earlier, crashed process created); after that, a trial start that this process has not tried
//   before is created without a search, and a retried one searches first. This assumes one writer per
//   study at a time (the study owner tracks; workers and peers do not);
// - params/tags are re-logged with the same values (MLflow accepts identical re-logs);
// - metrics carry their original timestamp and step, and MLflow's SQL store drops exact duplicates;
// - run updates and artifact PUTs overwrite.

import { base64ToBytes } from './base64.ts';
import type { KeyValue, MlflowClient, Run, RunStatus } from './mlflow-client.ts';
import { chunkBatch, MlflowError } from './mlflow-client.ts';
import type { SendContext, TrackingOp } from './outbox.ts';

export const TAG = {
  studyId: 'tunelab.study_id',
  trialId: 'tunelab.trial_id',
  kind: 'tunelab.kind',
  parentRunId: 'mlflow.parentRunId',
} as const;

/** MLflow 3's UI opens an experiment without this tag as a GenAI (traces) view; training runs belong in its runs table. */
const EXPERIMENT_TAGS: readonly KeyValue[] = [{ key: 'mlflow.experimentKind', value: 'custom_model_development' }];

interface RunRef {
  readonly runId: string;
  readonly artifactUri: string;
  status: RunStatus;
}

export interface MlflowSenderOptions {
  /** Reads a large artifact enqueued by reference (a file path in Node, a blob key in the browser). */
  readonly resolveArtifact?: (ref: string) => Promise<Uint8Array | Blob>;
}

/** Quotes a value for MLflow's search filter; ids with quotes or backslashes are refused upstream. */
function quote(value: string): string {
  if (/['\\]/.test(value)) throw permanent('search runs', `id ${JSON.stringify(value)} contains a quote or backslash, which MLflow search cannot match`);
  return `'${value}'`;
}

function permanent(call: string, message: string): MlflowError {
  return new MlflowError(`${call}: ${message}`, call, 'protocol', null, null, false);
}

function refOf(run: Run): RunRef {
  return { runId: run.info.run_id, artifactUri: run.info.artifact_uri ?? '', status: run.info.status };
}

function tagValue(run: Run, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

export class MlflowSender {
  private readonly experiments = new Map<string, string>();
  private readonly studies = new Map<string, RunRef>();
  /** Studies whose runs this process has listed: every trial run of theirs is in `trials`. */
  private readonly listed = new Set<string>();
  private readonly trials = new Map<string, RunRef>();

  constructor(
    private readonly client: MlflowClient,
    private readonly options: MlflowSenderOptions = {},
  ) {}

  /** The OpSender for Outbox. */
  readonly send = async (op: TrackingOp, signal: AbortSignal, context: SendContext = { maybeSentBefore: true }): Promise<void> => {
    switch (op.type) {
      case 'start-study': {
        const experimentId = await this.experiment(op.experimentName, signal);
        let ref = this.studies.get(op.studyId) ?? (await this.listStudy(experimentId, op.studyId, signal));
        if (!ref) {
          const info = await this.client.createRun({ experimentId, runName: op.runName, startTime: op.startTime, tags: op.tags }, signal);
          ref = { runId: info.run_id, artifactUri: info.artifact_uri ?? '', status: info.status };
        }
        await this.reopen(ref, signal);
        await this.logParams(ref.runId, op.params, signal);
        this.studies.set(op.studyId, ref);
        return;
      }
      case 'start-trial': {
        const parent = await this.studyRun(op.studyId, op.experimentName, signal);
        const key = this.trialKey(op.studyId, op.trialId);
        let ref = this.trials.get(key);
        if (!ref && context.maybeSentBefore) {
          const experimentId = await this.experiment(op.experimentName, signal);
          const { runs } = await this.client.searchRuns(
            { experimentIds: [experimentId], filter: this.trialFilter(op.studyId, op.trialId), maxResults: 10, orderBy: ['attributes.start_time ASC'] },
            signal,
          );
          if (runs[0]) ref = refOf(runs[0]);
        }
        if (!ref) {
          const experimentId = await this.experiment(op.experimentName, signal);
          const tags: KeyValue[] = [...op.tags.filter((t) => t.key !== TAG.parentRunId), { key: TAG.parentRunId, value: parent.runId }];
          const info = await this.client.createRun({ experimentId, runName: op.runName, startTime: op.startTime, tags }, signal);
          ref = { runId: info.run_id, artifactUri: info.artifact_uri ?? '', status: info.status };
        }
        this.trials.set(key, ref);
        // A trial re-run after a crash reuses its run: mark it running again.
        await this.reopen(ref, signal);
        await this.logParams(ref.runId, op.params, signal);
        return;
      }
      case 'metrics': {
        const ref = await this.target(op.studyId, op.trialId, op.experimentName, signal);
        for (const chunk of chunkBatch({ metrics: op.metrics })) await this.client.logBatch(ref.runId, chunk, signal);
        return;
      }
      case 'end-run': {
        const ref = await this.target(op.studyId, op.trialId, op.experimentName, signal);
        for (const chunk of chunkBatch({ metrics: op.metrics ?? [], tags: op.tags })) await this.client.logBatch(ref.runId, chunk, signal);
        await this.client.updateRun(ref.runId, { status: op.status, endTime: op.endTime }, signal);
        ref.status = op.status;
        return;
      }
      case 'artifact': {
        const ref = await this.target(op.studyId, op.trialId, op.experimentName, signal);
        let bytes: Uint8Array | Blob;
        if ('base64' in op.data) bytes = base64ToBytes(op.data.base64);
        else {
          const resolve = this.options.resolveArtifact;
          if (!resolve) throw permanent(`upload artifact ${op.path}`, `artifact given by reference ${op.data.ref} but no resolveArtifact was configured`);
          try {
            bytes = await resolve(op.data.ref);
          } catch (e) {
            throw new MlflowError(
              `upload artifact ${op.path}: cannot read ${op.data.ref}: ${e instanceof Error ? e.message : String(e)}`,
              `upload artifact ${op.path}`,
              'protocol',
              null,
              null,
              false,
              { cause: e },
            );
          }
        }
        await this.client.uploadArtifact(ref.artifactUri, op.path, bytes, op.contentType, signal);
        return;
      }
    }
  };

  private trialKey(studyId: string, trialId: string): string {
    return `${studyId}\u0000${trialId}`;
  }

  private trialFilter(studyId: string, trialId: string): string {
    return `tags.\`${TAG.studyId}\` = ${quote(studyId)} and tags.\`${TAG.trialId}\` = ${quote(trialId)}`;
  }

  private async experiment(name: string, signal: AbortSignal): Promise<string> {
    const cached = this.experiments.get(name);
    if (cached !== undefined) return cached;
    const id = await this.client.getOrCreateExperiment(name, signal, EXPERIMENT_TAGS);
    this.experiments.set(name, id);
    return id;
  }

  private async reopen(ref: RunRef, signal: AbortSignal): Promise<void> {
    if (ref.status === 'RUNNING') return;
    await this.client.updateRun(ref.runId, { status: 'RUNNING' }, signal);
    ref.status = 'RUNNING';
  }

  /**
   * One search for all active runs of a study: caches its trial runs (oldest first wins should
   * duplicates exist) and returns its parent run, or null when there is none yet.
   */
  private async listStudy(experimentId: string, studyId: string, signal: AbortSignal): Promise<RunRef | null> {
    const runs = await this.client.searchAllRuns({ experimentIds: [experimentId], filter: `tags.\`${TAG.studyId}\` = ${quote(studyId)}` }, signal);
    runs.sort((a, b) => (a.info.start_time ?? 0) - (b.info.start_time ?? 0));
    let parent: RunRef | null = null;
    for (const run of runs) {
      const kind = tagValue(run, TAG.kind);
      const trialId = tagValue(run, TAG.trialId);
      if (kind === 'study') parent ??= refOf(run);
      else if (trialId !== undefined) {
        const key = this.trialKey(studyId, trialId);
        if (!this.trials.has(key)) this.trials.set(key, refOf(run));
      }
    }
    this.listed.add(studyId);
    if (parent) this.studies.set(studyId, parent);
    return parent;
  }

  private async target(studyId: string, trialId: string | null, experimentName: string, signal: AbortSignal): Promise<RunRef> {
    return trialId === null ? this.studyRun(studyId, experimentName, signal) : this.trialRun(studyId, trialId, experimentName, signal);
  }

  /** The study's parent run, from cache or by listing the study (a later process replaying the outbox). */
  private async studyRun(studyId: string, experimentName: string, signal: AbortSignal): Promise<RunRef> {
    const cached = this.studies.get(studyId);
    if (cached && this.listed.has(studyId)) return cached;
    const experimentId = await this.experiment(experimentName, signal);
    const found = cached ?? (await this.listStudy(experimentId, studyId, signal));
    if (!found) throw permanent('find study run', `no run for study ${studyId} in experiment ${experimentName} (its start was never delivered)`);
    return found;
  }

  private async trialRun(studyId: string, trialId: string, experimentName: string, signal: AbortSignal): Promise<RunRef> {
    const key = this.trialKey(studyId, trialId);
    const cached = this.trials.get(key);
    if (cached) return cached;
    const experimentId = await this.experiment(experimentName, signal);
    const { runs } = await this.client.searchRuns({ experimentIds: [experimentId], filter: this.trialFilter(studyId, trialId), maxResults: 10, orderBy: ['attributes.start_time ASC'] }, signal);
    if (!runs[0]) throw permanent('find trial run', `no run for trial ${trialId} of study ${studyId} (its start was never delivered)`);
    const found = refOf(runs[0]);
    this.trials.set(key, found);
    return found;
  }

  private async logParams(runId: string, params: readonly KeyValue[], signal: AbortSignal): Promise<void> {
    for (const chunk of chunkBatch({ params })) await this.client.logBatch(runId, chunk, signal);
  }
}
