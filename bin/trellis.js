#!/usr/bin/env node
// Shim: the CLI lives in the built dist/ tree (run `npm run build` first).
import { main } from '../dist/src/cli/main.js';
main(process.argv.slice(2));
