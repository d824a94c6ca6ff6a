import { describe, expect, it } from 'vitest';
import { AshaPruner, MedianPruner, type IntermediateValue, type PrunerTrial } from '../../src/search/pruner.ts';

/** A synthetic learning curve: accuracy rising to `final` over `steps` evaluation steps. */
function curve(final: number, steps: number): IntermediateValue[] {
  return Array.from({ length: steps }, (_, i) => ({ step: i + 1, value: final * (1 - Math.exp(-(i + 1) / 3)) }));
}

function completed(id: number, final: number, steps = 10): PrunerTrial {
  return { id, state: 'complete', intermediate: curve(final, steps) };
}

describe('MedianPruner', () => {
  const history = [0.8, 0.82, 0.85, 0.86, 0.9].map((f, i) => completed(i, f));

  it('prunes a trial below the median of completed trials at that step, keeps one above', () => {
    const p = new MedianPruner();
    const bad = curve(0.6, 10);
    const good = curve(0.95, 10);
    const at4Bad = bad[3]?.value ?? NaN;
    const at4Good = good[3]?.value ?? NaN;
    expect(p.shouldPrune(99, 4, at4Bad, [...history, { id: 99, state: 'running', intermediate: bad.slice(0, 3) }])).toBe(true);
    expect(p.shouldPrune(99, 4, at4Good, [...history, { id: 99, state: 'running', intermediate: good.slice(0, 3) }])).toBe(false);
  });

  it('uses the best value so far (a dip after a good step does not prune)', () => {
    const p = new MedianPruner();
    const own: IntermediateValue[] = [{ step: 1, value: 0.9 }];
    expect(p.shouldPrune(99, 2, 0.1, [...history, { id: 99, state: 'running', intermediate: own }])).toBe(false);
  });

  it('waits for nStartupTrials completed trials and nWarmupSteps', () => {
    const few = history.slice(0, 4);
    expect(new MedianPruner().shouldPrune(99, 4, 0.01, few)).toBe(false);
    expect(new MedianPruner({ nStartupTrials: 4 }).shouldPrune(99, 4, 0.01, few)).toBe(true);
    expect(new MedianPruner({ nWarmupSteps: 5 }).shouldPrune(99, 4, 0.01, history)).toBe(false);
    expect(new MedianPruner({ nWarmupSteps: 5 }).shouldPrune(99, 5, 0.01, history)).toBe(true);
    // pruned and failed trials do not count as completed
    const notDone: PrunerTrial[] = history.map((t) => ({ ...t, state: 'pruned' }));
    expect(new MedianPruner().shouldPrune(99, 4, 0.01, notDone)).toBe(false);
  });

  it('minimisation flips the comparison', () => {
    const losses = [1, 2, 3, 4, 5].map((v, i): PrunerTrial => ({ id: i, state: 'complete', intermediate: [{ step: 1, value: v }] }));
    const p = new MedianPruner({ direction: 'minimize' });
    expect(p.shouldPrune(9, 1, 3.5, losses)).toBe(true);
    expect(p.shouldPrune(9, 1, 2.5, losses)).toBe(false);
  });
});

describe('AshaPruner', () => {
  it('rungs at r * eta^k', () => {
    const p = new AshaPruner({ minResource: 2, reductionFactor: 3 });
    expect([0, 1, 2].map((k) => p.rungResource(k))).toEqual([2, 6, 18]);
  });

  it('promotes only the top 1/eta at a rung', () => {
    const p = new AshaPruner({ minResource: 1, reductionFactor: 3 });
    // eight trials already reported at step 1 (rung 0) with values 0.1..0.8
    const others: PrunerTrial[] = Array.from({ length: 8 }, (_, i) => ({ id: i, state: 'pruned', intermediate: [{ step: 1, value: (i + 1) / 10 }] }));
    // with itself: 9 values, the top floor(9/3) = 3 continue: 0.85 is 1st, 0.65 is 3rd (0.8, 0.7, 0.65), 0.55 is 4th
    expect(p.shouldPrune(100, 1, 0.85, others)).toBe(false);
    expect(p.shouldPrune(100, 1, 0.65, others)).toBe(false);
    expect(p.shouldPrune(100, 1, 0.55, others)).toBe(true);
  });

  it('decides once per rung, between rungs it continues', () => {
    const p = new AshaPruner({ minResource: 1, reductionFactor: 3 });
    const others: PrunerTrial[] = Array.from({ length: 8 }, (_, i) => ({ id: i, state: 'complete', intermediate: curve((i + 1) / 10, 9) }));
    const me: PrunerTrial = { id: 100, state: 'running', intermediate: [{ step: 1, value: 0.99 }] };
    // step 2 is not a rung: no decision even with a terrible value
    expect(p.shouldPrune(100, 2, 0.0, [...others, me])).toBe(false);
    // step 3 is rung 1: a bad value there is pruned
    expect(p.shouldPrune(100, 3, 0.0, [...others, { ...me, intermediate: [...me.intermediate, { step: 2, value: 0 }] }])).toBe(true);
  });

  it('with fewer than eta values only the best so far continues', () => {
    const p = new AshaPruner({ minResource: 1, reductionFactor: 3 });
    const one: PrunerTrial[] = [{ id: 0, state: 'running', intermediate: [{ step: 1, value: 0.5 }] }];
    expect(p.shouldPrune(1, 1, 0.6, one)).toBe(false);
    expect(p.shouldPrune(1, 1, 0.4, one)).toBe(true);
  });

  it('a synthetic population: good curves survive, bad ones stop early', () => {
    const p = new AshaPruner({ minResource: 1, reductionFactor: 3 });
    const finals = [0.5, 0.9, 0.6, 0.7, 0.95, 0.55, 0.65, 0.8, 0.85, 0.52, 0.58, 0.62];
    const history: PrunerTrial[] = [];
    const stoppedAt: number[] = [];
    finals.forEach((f, id) => {
      const c = curve(f, 27);
      const t: { id: number; state: PrunerTrial['state']; intermediate: IntermediateValue[] } = { id, state: 'running', intermediate: [] };
      history.push(t);
      let stop = 27;
      for (const iv of c) {
        const prune = p.shouldPrune(id, iv.step, iv.value, history);
        t.intermediate.push(iv);
        if (prune) {
          stop = iv.step;
          t.state = 'pruned';
          break;
        }
      }
      if (t.state === 'running') t.state = 'complete';
      stoppedAt.push(stop);
    });
    // the best curve (0.95) runs to the end; most of the weak ones (< 0.6) are stopped at the first rung
    expect(stoppedAt[4]).toBe(27);
    const weak = finals.map((f, i) => (f < 0.6 ? (stoppedAt[i] ?? 0) : -1)).filter((s) => s >= 0);
    expect(weak.filter((s) => s === 1).length).toBeGreaterThanOrEqual(weak.length - 1);
  });
});
