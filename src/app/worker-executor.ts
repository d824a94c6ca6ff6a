// A TrialExecutor backed by one trainer Web Worker (workers/trainer.worker.ts), which owns one GPUDevice. The
// runner's AbortSignal becomes a stop(trialId) call; callbacks cross as a comlink proxy. Also the page's handle for
// the worker's final-model calls (test evaluation, prediction, export).
import { proxy, releaseProxy, wrap, type Remote } from 'comlink';
import type { TrialCallbacks, TrialExecutor, TrialRunRequest } from '../coord/executor.ts';
import type { TrialResult } from '../engine/train/run.ts';
import type { GpuOpenOutcome, TrainerWorkerApi } from '../../workers/trainer.worker.ts';

export class WorkerTrialExecutor implements TrialExecutor {
  readonly remote: Remote<TrainerWorkerApi>;
  private readonly worker: Worker;

  private constructor(readonly label: string, worker: Worker) {
    this.worker = worker;
    this.remote = wrap<TrainerWorkerApi>(worker);
  }

  /** Starts the worker and opens its GPU device. */
  static async start(index: number): Promise<{ executor: WorkerTrialExecutor; gpu: GpuOpenOutcome }> {
    const worker = new Worker(new URL('../../workers/trainer.worker.ts', import.meta.url), { type: 'module', name: `trainer-${index}` });
    const executor = new WorkerTrialExecutor(`worker ${index + 1}`, worker);
    const gpu = await executor.remote.open();
    return { executor, gpu };
  }

  async run(request: TrialRunRequest, callbacks: TrialCallbacks, signal: AbortSignal): Promise<TrialResult> {
    const onAbort = (): void => { this.remote.stop(request.trialId).catch(() => undefined); };
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) onAbort();
    try {
      return await this.remote.run(request, proxy<TrialCallbacks>({
        onPlan: (plan) => callbacks.onPlan(plan),
        onProgress: (points) => callbacks.onProgress(points),
        onEval: (point) => callbacks.onEval(point),
      }));
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  terminate(): void {
    this.remote[releaseProxy]();
    this.worker.terminate();
  }
}
