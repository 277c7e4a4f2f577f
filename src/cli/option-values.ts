/**
 * Option values as people type them, turned into what commands use: whole numbers (`-j 4`),
 * comma lists, test patterns, durations (`--max-age 26h`) and times (`--start
 * 2026-11-23T02:00:00Z` or epoch seconds). Each is the `parse` of an option declaration, so a
 * value is checked once, when the command line is read; a bad one is one BAD_VALUE (or
 * BAD_PATTERN) line naming the option and what to write instead.
 */
import { parseDuration } from '../config/duration.js';
import { checkLabel, checkRunName } from '../model/names.js';
import { parseTestPattern } from '../model/pattern.js';
import { TrellisError } from '../util/errors.js';
import { agentNameProblem } from '../model/pool.js';
import { termLine } from '../util/terminal-text.js';

/** A whole number of 1 or more (`-j 4`); yargs' own `number` would turn `x` into NaN. */
export function parseWholeNumber(text: string, flag: string): number {
  const t = text.trim();
  if (!/^[0-9]+$/.test(t) || Number(t) < 1) {
    throw new TrellisError('BAD_VALUE', `${flag} ${t}: expected a whole number of 1 or more`, `e.g. ${flag} 4`);
  }
  return Number(t);
}

/** A number of 0 or more (`--slow-factor 2.5`). */
export function parseNonNegativeNumber(text: string, flag: string): number {
  const t = text.trim();
  if (!/^[0-9]+(\.[0-9]+)?$/.test(t))
    throw new TrellisError('BAD_VALUE', `${flag} ${t}: expected a number of 0 or more`, `e.g. ${flag} 2.5`);
  return Number(t);
}

/** A port number from 0 (any free port) to 65535 (`--port 8420`). */
export function parsePort(text: string, flag: string): number {
  const t = text.trim();
  if (!/^[0-9]{1,5}$/.test(t) || Number(t) > 65535) {
    throw new TrellisError(
      'BAD_VALUE',
      `${flag} ${t}: expected a port number from 0 to 65535`,
      `e.g. ${flag} 8420, or ${flag} 0 for any free port`,
    );
  }
  return Number(t);
}

/** A run name a run may be created with (`trellis run -r`): the name rules of model/names.ts. */
export function parseRunName(text: string, flag: string): string {
  checkRunName(text, flag);
  return text;
}

/** A status a test reports (`--status WARN`), upper-cased: printable, not empty. */
export function parseStatus(text: string, flag: string): string {
  const status = text.toUpperCase();
  checkLabel('status', status, flag);
  return status;
}

/** A comma list: its words, trimmed, empty ones left out. */
export function parseWords(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** A comma list of states or statuses, upper-cased. */
export function parseUpperWords(text: string): string[] {
  return parseWords(text).map((s) => s.toUpperCase());
}

/** A test pattern (`smoke%,unit/a%,~slow%`), checked here and passed on as written. */
export function parsePatternOption(text: string, flag: string): string {
  parseTestPattern(text, flag);
  return text;
}

/** A duration as typed and in seconds: the text is what messages repeat back. */
export interface DurationValue {
  text: string;
  seconds: number;
}

/** A duration option (`26h`), keeping the text for messages. */
export function parseDurationValue(text: string, flag: string): DurationValue {
  return { text, seconds: parseDurationOption(flag, text) };
}

/** A time as typed and in seconds since the epoch. */
export interface TimeValue {
  text: string;
  epoch: number;
}

/** A time option (ISO 8601 with a zone, or epoch seconds), keeping the text for messages. */
export function parseTimeValue(text: string, flag: string): TimeValue {
  return { text, epoch: parseTimeOption(flag, text) };
}

/** Seconds in a duration option: `90`, `90s`, `90m`, `26h`, `2d`, `1h 30m`. */
export function parseDurationOption(flag: string, text: string): number {
  try {
    return parseDuration(text, { file: flag, line: 0 });
  } catch {
    throw new TrellisError(
      'BAD_VALUE',
      `${flag} '${text}' is not a duration`,
      `write seconds or number+unit parts (s, m, h, d, w), e.g. ${flag} 26h, 90m or 2d`,
    );
  }
}

const EPOCH = /^\d+(\.\d+)?$/;
// Date and time, optional seconds and fraction, and a zone (Z, +HH:MM, +HHMM or +HH).
const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}(?::?\d{2})?)$/i;

/** Seconds since the epoch in a time option: epoch seconds, or ISO 8601 with a zone. */
export function parseTimeOption(flag: string, text: string): number {
  const s = text.trim();
  if (EPOCH.test(s)) return Number(s);
  const m = ISO.exec(s);
  if (m === null) {
    const zoneless = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(s);
    throw new TrellisError(
      'BAD_VALUE',
      zoneless ? `${flag} '${text}' has no time zone` : `${flag} '${text}' is not a time`,
      zoneless
        ? `add Z (UTC) or an offset, e.g. ${s}Z or ${s}+01:00`
        : `write ISO 8601 with a zone (2026-11-23T02:00:00Z, 2026-11-23T03:00:00+01:00) or seconds since the epoch`,
    );
  }
  const [, y, mo, d, h, mi, sec = '00', frac = '', zone = 'Z'] = m;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3).replace(':', '') || '00'}`;
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${sec}${frac}${offset}`);
  const back = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(sec)));
  // Date.parse rolls 2026-02-30 over into March: refuse a date or time that does not exist.
  const real =
    back.getUTCFullYear() === Number(y) &&
    back.getUTCMonth() === Number(mo) - 1 &&
    back.getUTCDate() === Number(d) &&
    back.getUTCHours() === Number(h) &&
    back.getUTCMinutes() === Number(mi) &&
    back.getUTCSeconds() === Number(sec);
  if (Number.isNaN(ms) || !real) {
    throw new TrellisError('BAD_VALUE', `${flag} '${text}' is not a real date and time`, 'check the day, month and hour');
  }
  return ms / 1000;
}

/** Agent names, hosts or tags (`--on gpu,build1`, `--tags gpu,linux`): words the pool's rules take. */
export function parseAgentWords(text: string, flag: string): string[] {
  const words = parseWords(text);
  if (words.length === 0) throw new TrellisError('BAD_VALUE', `${flag}: expected one or more names`, `e.g. ${flag} gpu,linux`);
  for (const w of words) {
    const problem = agentNameProblem(w);
    if (problem !== undefined) {
      throw new TrellisError('BAD_VALUE', `${flag} '${termLine(w)}' ${problem}`, `e.g. ${flag} gpu,linux`);
    }
  }
  return [...new Set(words)];
}
