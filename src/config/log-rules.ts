/**
 * The log rules of a test's steps, read with its testconfig so a bad rule is reported (file:line)
 * before anything runs: for each ezstep, Megatest's `STEP.logpro` beside the testconfig or else its
 * `[logpro] STEP` entry (as Megatest: the file wins), then the `[logrules]` lines naming the step
 * (`%` patterns allowed). The runner applies them after the step (src/logrules).
 */
import fs from 'node:fs';
import path from 'node:path';
import { buildRuleSet, parseLogpro, parseNativeRules, type NativeLine, type RulePiece, type RuleSet } from '../logrules/index.js';
import { matchPercent } from '../model/pattern.js';
import { configError, TrellisError } from '../util/errors.js';
import { NotARegularFileError, readRegularFile } from '../util/files.js';
import type { ConfigFile, ConfigValue, Step } from './types.js';

/** Step name → its rules, for the steps that have any. */
export function readLogRules(config: ConfigFile, testDir: string, steps: readonly Step[]): ReadonlyMap<string, RuleSet> {
  const native = readNativeLines(config, steps);
  const out = new Map<string, RuleSet>();
  const present = steps.length > 0 ? logproFilesIn(testDir) : undefined;
  for (const step of steps) {
    const pieces: RulePiece[] = [];
    const logpro = readLogproFor(config, testDir, step.name, present);
    if (logpro) pieces.push(logpro);
    const lines = native.filter((n) => matchPercent(n.step, step.name)).flatMap((n) => n.lines);
    if (lines.length > 0) pieces.push(parseNativeRules(lines));
    if (pieces.length > 0) out.set(step.name, buildRuleSet(pieces));
  }
  return out;
}

/**
 * The `*.logpro` names in the test folder: one listing per test rather than a failed open per step
 * at every run's start (on NFS each is a round trip). Undefined when the folder cannot be listed
 * (readable files, unlistable folder): then each step's file is tried.
 */
function logproFilesIn(testDir: string): ReadonlySet<string> | undefined {
  try {
    return new Set(fs.readdirSync(testDir).filter((n) => n.endsWith('.logpro')));
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? new Set() : undefined;
  }
}

/** `STEP.logpro` in the test folder, else `[logpro] STEP`; undefined when neither exists. */
function readLogproFor(config: ConfigFile, testDir: string, step: string, present: ReadonlySet<string> | undefined): RulePiece | undefined {
  // A step name is a config key: only a plain file name may name a file beside the testconfig.
  const name = `${step}.logpro`;
  if (!step.includes('/') && !step.includes('\0') && step !== '.' && step !== '..' && (present === undefined || present.has(name))) {
    const file = path.join(testDir, name);
    let text: string | undefined;
    try {
      // Not blocking: a FIFO left where the file belongs would hang the run (deaf to SIGTERM).
      text = readRegularFile(file);
    } catch (err) {
      if (err instanceof NotARegularFileError) {
        throw new TrellisError(
          'CONFIG_INCLUDE',
          `${file}: cannot read the step's logpro file (${err.kind}, not a regular file)`,
          'replace it with a regular file, or remove it',
        );
      }
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') {
        throw new TrellisError(
          'CONFIG_INCLUDE',
          `${file}: cannot read the step's logpro file (${code ?? (err as Error).message})`,
          'check its permissions, or remove it',
        );
      }
    }
    if (text !== undefined) return parseLogpro(text, { file, line: 1 });
  }
  const entry = config.get('logpro', step);
  if (!entry || entry.text.trim() === '') return undefined;
  return parseLogpro(entry.text, textSource(entry));
}

function textSource(value: ConfigValue): { file: string; line: number; lines?: readonly number[] } {
  return { file: value.loc.file, line: value.textLines?.[0] ?? value.loc.line, ...(value.textLines ? { lines: value.textLines } : {}) };
}

interface StepLines {
  step: string;
  lines: NativeLine[];
}

/** Every `[logrules] STEP RULE` line (a key may repeat; a value may go on over several lines). */
function readNativeLines(config: ConfigFile, steps: readonly Step[]): StepLines[] {
  const names = steps.map((s) => s.name);
  return config.assignments('logrules').map(([step, value]) => {
    if (!step.includes('%') && !names.includes(step)) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[logrules] ${step}: there is no ezstep named '${step}' (steps: ${names.join(', ') || 'none'})`,
        'start each line with the name of an [ezsteps] step, or a % pattern such as % for every step',
      );
    }
    const src = textSource(value);
    const lines = value.text
      .split('\n')
      .flatMap((text, i) => (text.trim() === '' ? [] : [{ text, loc: { file: src.file, line: src.lines?.[i] ?? src.line + i } }]));
    if (lines.length === 0) {
      throw configError(
        'CONFIG_VALUE',
        value.loc,
        `[logrules] ${step}: no rule after the step name`,
        'write STEP KIND /REGEX/, e.g. compile error /error/i',
      );
    }
    return { step, lines };
  });
}
