#!/usr/bin/env node
// `tunelab` command: registers the `?raw` shader hook and the TypeScript loader (tsx), then runs src/cli/main.ts.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

register('./raw-loader.mjs', import.meta.url);
registerTsx();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
