/** Trellis' version, from package.json (read once, when first asked). */
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function trellisVersion(): string {
  if (version === undefined) {
    // dist/src/util/version.js → the package root is three folders up.
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    version = pkg.version ?? '0.0.0';
  }
  return version;
}
