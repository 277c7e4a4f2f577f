/**
 * The folder Trellis is installed in (package.json, bin/, dist/), found from this module's own
 * file: `dist/src/util/install-root.js` when the compiled tree runs (tests, `runMain`), or the
 * bundle `dist/src/trellis.cjs` that bin/trellis.js loads (a CommonJS file: there `__filename` is
 * set and `import.meta` is not).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function installRoot(): string {
  if (root === undefined) {
    const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
    let dir = path.dirname(here);
    while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'bin', 'trellis.js'))) {
      const up = path.dirname(dir);
      if (up === dir) throw new Error(`no Trellis installation (package.json beside bin/trellis.js) above ${here}`);
      dir = up;
    }
    root = dir;
  }
  return root;
}
