// Bundles a TypeScript benchmark into one ESM file for the GPU machine (../shared/gpu/README.md): `webgpu` stays
// external (dawn.node is staged separately), `?raw` shader imports become strings.
//   node test/bench/gpu-bundle.mjs test/bench/throughput.ts /tmp/gpu-bench.mjs
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  console.error('usage: node test/bench/gpu-bundle.mjs ENTRY.ts OUT.mjs');
  process.exit(2);
}
const rawPlugin = {
  name: 'raw',
  setup(b) {
    b.onResolve({ filter: /\?raw$/ }, (args) => ({ path: new URL(args.path.slice(0, -4), `file://${args.resolveDir}/`).pathname, namespace: 'raw' }));
    b.onLoad({ filter: /.*/, namespace: 'raw' }, async (args) => ({ contents: `export default ${JSON.stringify(await readFile(args.path, 'utf8'))};`, loader: 'js' }));
  },
};
await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', target: 'node20', external: ['webgpu'], outfile, plugins: [rawPlugin], logLevel: 'warning' });
console.error(`gpu-bundle: ${outfile}`);
