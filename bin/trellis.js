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
if (fs.existsSync(BUNDLE)) loadBundle(cacheName(argv)).exports.main(argv);
else import('../dist/src/cli/main.js').then((m) => m.main(argv));
