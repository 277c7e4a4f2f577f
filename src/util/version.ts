/** Trellis' version, from package.json (read once, when first asked). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installRoot } from './install-root.js';

let version: string | undefined;

export function trellisVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(readFileSync(path.join(installRoot(), 'package.json'), 'utf8')) as { version?: string };
    version = pkg.version ?? '0.0.0';
  }
  return version;
}
