/**
 * Durations as written in configs: `90`, `90s`, `1m30s`, `2h`, `1d`, `1h 30m`, `1.5h`.
 */
import { configError, type SourceLocation } from '../util/errors.js';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const PART = /(\d+(?:\.\d+)?)\s*([smhdw])/gy;

/**
 * Seconds in `text`: a bare number is seconds; otherwise number+unit parts (s, m, h, d, w),
 * optionally separated by blanks. Anything else is a CONFIG_VALUE error at `loc`.
 */
export function parseDuration(text: string, loc: SourceLocation, what = 'duration'): number {
  const s = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Number(s);
  let total = 0;
  let pos = 0;
  let parts = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) break;
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    pos = PART.lastIndex;
    parts++;
    while (s[pos] === ' ' || s[pos] === '\t') pos++;
  }
  if (parts === 0 || pos !== s.length) {
    throw configError(
      'CONFIG_VALUE',
      loc,
      `bad ${what} '${s}'`,
      'write seconds or number+unit parts (s, m, h, d, w), e.g. 90, 90s, 1m30s, 2h, 1h 30m',
    );
  }
  return total;
}
