import { describe, expect, it } from 'vitest';
import { SearchSpaceError } from '../../src/search/space.ts';
import { MemoryStudyStore, parseStudyState, Study, StudyStateError, type StudyState } from '../../src/search/study.ts';

/** A controllable clock (ms). */
function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

function accuracyOf(p: Readonly<Record<string, unknown>>): number {
  const lr = p.learning_rate;
  if (typeof lr !== 'number') throw new Error('no learning_rate');
  return 0.9 - 0.05 * (Math.log10(lr) + 4) ** 2;
}

describe('Study', () => {
  it('runs trials ask -> report -> tell, and reports every change', () => {
    const states: StudyState[] = [];
    const study = Study.create({ name: 's', budget: { maxTrials: 3 }, pruner: { kind: 'none' } }, { onChange: (s) => states.push(s) });
    for (;;) {
      const req = study.ask();
      if (!req) break;
      expect(study.reportIntermediate(req.trialId, 10, 0.5)).toBe('continue');
      study.tell(req.trialId, { state: 'complete', value: accuracyOf(req.params) });
    }
    expect(study.trials.map((t) => t.state)).toEqual(['complete', 'complete', 'complete']);
    expect(study.isDone()).toBe(true);
    expect(states.length).toBe(9); // ask, report, tell per trial
    expect(states.at(-1)).toBe(study.state);
    // every state is a snapshot: older ones did not change
    expect(states[0]?.trials[0]?.state).toBe('running');
    const best = study.best();
    expect(best?.value).toBe(Math.max(...study.trials.map((t) => t.value ?? -1)));
  });

  it('enqueued configurations run first; partial ones are completed by the sampler', () => {
    const study = Study.create({ name: 's' });
    study.enqueue({ learning_rate: 5e-5, batch_size: 16, weight_decay: 0.01 });
    study.enqueue({ learning_rate: 2e-5 });
    const a = study.ask();
    const b = study.ask();
    const c = study.ask();
    expect(a?.params).toEqual({ learning_rate: 5e-5, batch_size: 16, weight_decay: 0.01 });
    expect(a?.source).toBe('enqueued');
    expect(b?.params.learning_rate).toBe(2e-5);
    expect([16, 32]).toContain(b?.params.batch_size);
    expect(typeof b?.params.weight_decay).toBe('number');
    expect(c?.source).toBe('sampler');
    expect(() => study.enqueue({ batch_size: 48 })).toThrow(SearchSpaceError);
    expect(() => study.enqueue({ dropout: 0.9 })).toThrow(/parameter "dropout": must be in \[0, 0.5\]/);
  });

  it('records failures with reasons and pruned trials with their last value', () => {
    const study = Study.create({ name: 's', pruner: { kind: 'median', nStartupTrials: 1 } });
    const a = study.ask();
    const b = study.ask();
    const c = study.ask();
    if (!a || !b || !c) throw new Error('no trial');
    study.reportIntermediate(a.trialId, 1, 0.8);
    study.tell(a.trialId, { state: 'complete', value: 0.8 });
    expect(study.reportIntermediate(b.trialId, 1, 0.6)).toBe('prune');
    study.tell(b.trialId, { state: 'pruned' });
    study.tell(c.trialId, { state: 'failed', reason: 'out-of-memory', message: 'batch 32 does not fit' });
    expect(study.trials[1]).toMatchObject({ state: 'pruned', value: 0.6 });
    expect(study.trials[2]).toMatchObject({ state: 'failed', failure: { reason: 'out-of-memory', message: 'batch 32 does not fit' } });
    expect(() => study.tell(c.trialId, { state: 'complete', value: 1 })).toThrow(/trial 2 is failed, not running/);
    expect(() => study.reportIntermediate(99, 1, 0.5)).toThrow(/no trial 99/);
    const d = study.ask();
    if (!d) throw new Error('no trial');
    expect(() => study.tell(d.trialId, { state: 'complete', value: Number.NaN })).toThrow(/finite value/);
    // the sampler sees failures as failures (no loss), completes as loss = -accuracy
    expect(study.samplerHistory().slice(0, 3)).toEqual([
      { params: a.params, state: 'complete', loss: -0.8 },
      { params: b.params, state: 'pruned' },
      { params: c.params, state: 'failed' },
    ]);
  });

  it('a restarted trial (device lost) overwrites intermediate values from the repeated step', () => {
    const study = Study.create({ name: 's', pruner: { kind: 'none' } });
    const a = study.ask();
    if (!a) throw new Error('no trial');
    for (const s of [1, 2, 3]) study.reportIntermediate(a.trialId, s, s / 10);
    study.reportIntermediate(a.trialId, 1, 0.15);
    expect(study.trials[0]?.intermediate).toEqual([{ step: 1, value: 0.15 }]);
  });

  it('round-trips through JSON', () => {
    const study = Study.create({ name: 'rt', sampler: { kind: 'tpe', seed: 7, nStartupJobs: 3 }, budget: { maxTrials: 10, maxWallMinutes: 60 } });
    study.enqueue({ learning_rate: 1e-4 });
    for (let i = 0; i < 5; i++) {
      const r = study.ask();
      if (!r) throw new Error('no trial');
      study.reportIntermediate(r.trialId, 1, 0.7);
      if (i === 2) study.tell(r.trialId, { state: 'failed', reason: 'diverged', message: 'loss NaN at step 40' });
      else study.tell(r.trialId, { state: 'complete', value: accuracyOf(r.params) });
    }
    const text = JSON.stringify(study.toJSON());
    const back = Study.fromJSON(JSON.parse(text));
    expect(back.state).toEqual(study.state);
    expect(JSON.stringify(back.toJSON())).toBe(text);
    expect(back.state.version).toBe(1);
  });

  it('resume: a running trial is re-queued with the same params, complete ones are never re-run', async () => {
    const store = new MemoryStudyStore();
    const study = Study.create({ name: 'r', budget: { maxTrials: 4 }, pruner: { kind: 'none' } });
    const a = study.ask();
    const b = study.ask();
    if (!a || !b) throw new Error('no trial');
    study.tell(a.trialId, { state: 'complete', value: 0.81 });
    study.reportIntermediate(b.trialId, 5, 0.7);
    await store.save(study.toJSON()); // crash here: b was running
    const loaded = await store.load();
    const resumed = Study.fromJSON(loaded);
    expect(resumed.trials[1]).toMatchObject({ state: 'pending', intermediate: [], attempts: 1 });
    const again = resumed.ask();
    expect(again).toEqual({ trialId: b.trialId, params: b.params, attempt: 2, source: 'sampler' });
    resumed.tell(b.trialId, { state: 'complete', value: 0.82 });
    const ids: number[] = [];
    for (let r = resumed.ask(); r; r = resumed.ask()) {
      ids.push(r.trialId);
      resumed.tell(r.trialId, { state: 'complete', value: 0.5 });
    }
    expect(ids).toEqual([2, 3]); // trial 0 never ran again, the budget of 4 holds
    expect(resumed.trials.map((t) => t.attempts)).toEqual([1, 2, 1, 1]);
  });

  it('the sampler resumes deterministically: same suggestions with or without a save/load in between', () => {
    const opts = { name: 'd', sampler: { kind: 'tpe', seed: 3, nStartupJobs: 4 }, budget: { maxTrials: 10 }, pruner: { kind: 'none' } } as const;
    const straight = Study.create(opts);
    let interrupted = Study.create(opts);
    for (let i = 0; i < 10; i++) {
      if (i === 6) interrupted = Study.fromJSON(JSON.parse(JSON.stringify(interrupted.toJSON())));
      for (const s of [straight, interrupted]) {
        const r = s.ask();
        if (!r) throw new Error('no trial');
        s.tell(r.trialId, { state: 'complete', value: accuracyOf(r.params) });
      }
    }
    expect(interrupted.trials.map((t) => t.params)).toEqual(straight.trials.map((t) => t.params));
  });

  it('wall-clock budget counts live time across sessions', () => {
    const c = clock();
    const study = Study.create({ name: 'w', budget: { maxWallMinutes: 10 }, pruner: { kind: 'none' } }, { now: c.now });
    const a = study.ask();
    if (!a) throw new Error('no trial');
    c.advance(6 * 60_000);
    study.tell(a.trialId, { state: 'complete', value: 0.8 });
    const saved = JSON.parse(JSON.stringify(study.toJSON())) as unknown;
    c.advance(24 * 3600_000); // the process was down for a day
    const resumed = Study.fromJSON(saved, { now: c.now });
    expect(resumed.ask()).toBeDefined();
    c.advance(5 * 60_000);
    expect(resumed.ask()).toBeUndefined();
    expect(resumed.budgetExhausted()).toBe(true);
  });

  it('rejects malformed saved states, naming the field', () => {
    const good = Study.create({ name: 'v' }).toJSON();
    expect(() => parseStudyState({ ...good, version: 2 })).toThrow(/study state: version: expected 1/);
    expect(() => parseStudyState({ ...good, trials: [{ id: 0, state: 'done', source: 'sampler', attempts: 1, params: {}, intermediate: [] }] })).toThrow(
      /study state: trials\[0\]\.state: expected one of pending, running, complete, pruned, failed \(got "done"\)/,
    );
    expect(() => parseStudyState({ ...good, trials: [{ id: 0, state: 'failed', source: 'sampler', attempts: 1, params: {}, intermediate: [] }] })).toThrow(/trials\[0\]\.failure/);
    expect(() => parseStudyState({ ...good, space: { learning_rate: { type: 'loguniform', low: 0, high: 1 } } })).toThrow(StudyStateError);
  });

  it('rejects a bad space at creation', () => {
    expect(() => Study.create({ name: 'x', space: { dropout: { type: 'uniform', low: 0, high: 0.8 } } })).toThrow(/parameter "dropout": high must be in \[0, 0.5\]/);
  });
});
