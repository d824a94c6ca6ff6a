// Public surface of the search library (pure, seedable, no I/O: runs in Node and in a Worker).
export * from './space.ts';
export * from './sampler.ts';
export * from './random.ts';
export * from './tpe.ts';
export * from './pruner.ts';
export * from './study.ts';
export { Rng } from './rng.ts';
