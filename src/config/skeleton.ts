/** The skeleton area `trellis init` writes: small, valid, and showing the main features. */
import fs from 'node:fs';
import path from 'node:path';
import { TrellisError } from '../util/errors.js';
import { areaPaths } from './paths.js';

const FILES: Record<string, string> = {
  'trellis.config': `# The area config. See docs/config-reference.md.
[fields]
# Each run is for a target: one value per key, e.g. -t linux/x86_64
OS
ARCH

[setup]
# At most this many tests at once (default: the number of CPUs).
max_concurrent_jobs 4
`,
  'runconfigs.config': `# Values here become environment variables of every test of a target.
[default]
TESTPATT %
GREETING hello

[linux/x86_64]
CFLAGS -O2
`,
  'tests/hello/testconfig': `[test_meta]
description Says hello

[ezsteps]
greet echo "$GREETING from $MT_TEST_NAME on $OS/$ARCH"
`,
  'tests/world/testconfig': `[requirements]
waiton hello

[items]
PLANET mercury venus earth

[ezsteps]
visit echo "visiting $PLANET"
`,
};

/** Writes the skeleton into `dir`; refuses when an area is already there. Returns the files. */
export function createSkeletonArea(dir: string): string[] {
  const p = areaPaths(dir);
  for (const existing of [p.trellisConfig, p.megatestConfig]) {
    if (fs.existsSync(existing)) {
      throw new TrellisError('AREA_EXISTS', `${existing} already exists`, 'init only creates new areas; pick another folder');
    }
  }
  const written: string[] = [];
  for (const [rel, text] of Object.entries(FILES)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { flag: 'wx' });
    written.push(file);
  }
  return written;
}
