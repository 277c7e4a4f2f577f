/**
 * The page's two assets, the style sheet and the script, held in memory under names that carry
 * their content's hash (`style.3f2a9c1e.css`): a browser may keep them for a year, and a new
 * version of Trellis gets new names. Nothing comes from a CDN; both ship in the package.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { installRoot } from '../util/install-root.js';
import { STYLE_CSS } from './assets/style.js';

export interface Asset {
  name: string;
  type: string;
  body: Buffer;
  etag: string;
}

export interface Assets {
  /** the URL paths pages link to */
  styleUrl: string;
  scriptUrl: string;
  byName: ReadonlyMap<string, Asset>;
}

function asset(base: string, ext: string, type: string, body: Buffer): Asset {
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { name: `${base}.${hash}.${ext}`, type, body, etag: `"${hash}"` };
}

/** Loads the assets: the style sheet from its module, the script built into dist/src/web/client. */
export function loadAssets(): Assets {
  const style = asset('style', 'css', 'text/css; charset=utf-8', Buffer.from(STYLE_CSS, 'utf8'));
  const script = asset(
    'live',
    'js',
    'text/javascript; charset=utf-8',
    readFileSync(path.join(installRoot(), 'dist', 'src', 'web', 'client', 'live.js')),
  );
  return {
    styleUrl: `/assets/${style.name}`,
    scriptUrl: `/assets/${script.name}`,
    byName: new Map([style, script].map((a) => [a.name, a])),
  };
}
