import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileStudyStore } from '../../src/cli/file-study-store.ts';
import { Study } from '../../src/search/study.ts';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tunelab-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function studyWithTrials(n: number): Study {
  const study = Study.create({ name: 'f', pruner: { kind: 'none' } });
  for (let i = 0; i < n; i++) {
    const r = study.ask();
    if (!r) throw new Error('no trial');
    study.tell(r.trialId, { state: 'complete', value: 0.5 + i / 100 });
  }
  return study;
}

describe('FileStudyStore', () => {
  it('load of a missing file is undefined; save then load round-trips', async () => {
    const store = new FileStudyStore(join(dir, 'sub', 'study.json'));
    expect(await store.load()).toBeUndefined();
    const study = studyWithTrials(3);
    await store.save(study.toJSON());
    expect(await store.load()).toEqual(study.toJSON());
    expect(await readdir(join(dir, 'sub'))).toEqual(['study.json']); // no temp file left behind
  });

  it('a temp file left by a crash mid-write does not corrupt or replace the state', async () => {
    const path = join(dir, 'study.json');
    const store = new FileStudyStore(path);
    const study = studyWithTrials(2);
    await store.save(study.toJSON());
    // a writer died after writing half of its temp file, before the rename
    const newer = JSON.stringify(studyWithTrials(3).toJSON());
    await writeFile(`${path}.4242.0.tmp`, newer.slice(0, newer.length >> 1));
    const loaded = await store.load();
    expect(loaded?.trials).toHaveLength(2);
    // and the next save still replaces the file atomically
    await store.save(studyWithTrials(4).toJSON());
    expect((await store.load())?.trials).toHaveLength(4);
  });

  it('concurrent saves land in call order (the last state wins)', async () => {
    const store = new FileStudyStore(join(dir, 'study.json'));
    const states = [1, 2, 3, 4, 5].map((n) => studyWithTrials(n).toJSON());
    await Promise.all(states.map((s) => store.save(s)));
    expect((await store.load())?.trials).toHaveLength(5);
  });

  it('names the file when its content is broken', async () => {
    const path = join(dir, 'study.json');
    await writeFile(path, '{"version": 1, "name": ');
    await expect(new FileStudyStore(path).load()).rejects.toThrow(`${path}: not valid JSON`);
    await writeFile(path, JSON.stringify({ ...studyWithTrials(1).toJSON(), direction: 'up' }));
    await expect(new FileStudyStore(path).load()).rejects.toThrow(/study\.json: study state: \(root\)\.direction: expected one of maximize, minimize/);
    expect(await readFile(path, 'utf8')).toContain('"up"');
  });
});
