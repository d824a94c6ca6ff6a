// Where the page keeps a study besides its StudyState (which IdbStudyStore holds): each trial's summary (curves,
// timings, reasons) as JSON under "summary:<studyId>:<trialId>" in the durable state store, so a reload redraws
// every finished trial; and the best trial's weights, held in memory (they are megabytes to hundreds of megabytes).
// After a reload the best weights are gone; the final model is then rebuilt by re-running the best configuration
// (same seed, same data: the same model on the same device), see LabController.finalModel.
import type { BestWeightsStore, KeptWeights, TrialSummary, TrialSummaryStore } from '../coord/study-runner.ts';
import type { ModelOverrides } from '../coord/params.ts';
import type { TrialSettings } from '../engine/train/run.ts';
import type { IdbStateStore } from './storage/state-store.ts';

export class IdbTrialSummaryStore implements TrialSummaryStore {
  constructor(private readonly state: IdbStateStore, private readonly studyId: string) {}

  private get prefix(): string {
    return `summary:${this.studyId}:`;
  }

  async load(): Promise<readonly TrialSummary[]> {
    const out: TrialSummary[] = [];
    for (const key of await this.state.keys(this.prefix)) {
      const s = await this.state.get<TrialSummary>(key);
      if (s !== undefined && typeof s.trialId === 'number') out.push(s);
    }
    return out.sort((a, b) => a.trialId - b.trialId);
  }

  save(summary: TrialSummary): Promise<void> {
    return this.state.put(`${this.prefix}${String(summary.trialId).padStart(6, '0')}`, summary);
  }
}

export interface HeldWeights extends KeptWeights {
  readonly settings: TrialSettings;
  readonly modelOverrides: ModelOverrides;
  readonly weights: Float32Array;
}

export class MemoryBestWeights implements BestWeightsStore {
  held: HeldWeights | undefined;

  kept(): Promise<KeptWeights | undefined> {
    return Promise.resolve(this.held ? { trialId: this.held.trialId, value: this.held.value } : undefined);
  }

  save(trial: KeptWeights & { readonly settings: TrialSettings; readonly modelOverrides: ModelOverrides }, weights: Float32Array): Promise<void> {
    this.held = { ...trial, weights };
    return Promise.resolve();
  }
}
