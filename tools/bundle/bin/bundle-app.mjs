#!/usr/bin/env node
// bundle-app <entry.ts> [--outdir dist]: see ../src/bundle.mjs.
import { parseArgs } from 'node:util';
import { bundleApp } from '../src/bundle.mjs';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { outdir: { type: 'string', default: 'dist' } },
});
const [entry] = positionals;
if (entry === undefined || positionals.length > 1) {
  process.stderr.write('usage: bundle-app <entry.ts> [--outdir dist]\n');
  process.exit(64);
}
try {
  await bundleApp({ entry, outdir: values.outdir });
} catch (error) {
  process.stderr.write(`bundle-app: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
  process.exit(1);
}
