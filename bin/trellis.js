#!/usr/bin/env node
'use strict';
// The `trellis` command. It loads the CLI bundled into one CommonJS file (dist/src/trellis.cjs,
// made by `npm run build`) with the V8 code cache of its command (bin/code-cache.cjs): a quick
// command starts in about 1.4x a bare `node -e 0`, where loading the ES modules of dist/src one by
// one took over 2x (docs/benchmarks.md, "Quick commands"). Without the bundle (only `tsc` ran) it
// loads dist/src.
const fs = require('node:fs');
const { BUNDLE, cacheName, loadBundle } = require('./code-cache.cjs');

const argv = process.argv.slice(2);
// A run grows V8's heap with its garbage: at 100,000 items the runner peaked at 540-650 MB for a
// live heap of ~50 MB. V8's optimize-for-size keeps the heap's growth factor low: 145-162 MB
// against 314-369 MB at 40,000 items, with no launch cost told apart from the noise (A/B, 1,000
// tests, 8 pairs: 1.01x); docs/benchmarks.md "The runner's memory". The heap reads it as it
// grows, so it takes effect set here; set after the bundle is loaded, since a code cache made
// without it is refused with it.
const sizeFirst = () => {
  if (argv[0] === 'run') require('node:v8').setFlagsFromString('--optimize-for-size');
};
if (fs.existsSync(BUNDLE)) {
  const bundle = loadBundle(cacheName(argv));
  sizeFirst();
  bundle.exports.main(argv);
} else {
  sizeFirst();
  import('../dist/src/cli/main.js').then((m) => m.main(argv));
}
