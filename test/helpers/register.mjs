// `node --import ./test/helpers/register.mjs script.ts`: TypeScript (tsx) and `?raw` shader imports for scripts and benchmarks.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('../../bin/raw-loader.mjs', import.meta.url);
registerTsx();
