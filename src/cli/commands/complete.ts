/**
 * `trellis __complete -- WORD… CURRENT`: what the completion scripts call on Tab. Prints one
 * candidate a line and never an error: the area, runconfigs and main.db are read only if the
 * word being completed needs them, and nothing is written or started (no server).
 */
import path from 'node:path';
import { findAreaDir, listTargets, loadArea } from '../../config/area.js';
import { runAreaPaths } from '../../config/paths.js';
import type { Area } from '../../config/types.js';
import { readRunKeys, type RunKey } from '../../db/run-keys.js';
import { completeWords, type CompletionSources } from '../completion.js';
import type { CommandContext } from '../context.js';
import type { CompleteOptions } from '../specs/completion.js';

export async function execute(opts: CompleteOptions, ctx: CommandContext): Promise<number> {
  const words = opts.rest;
  const optionValue = (flag: string) => {
    const i = words.lastIndexOf(flag);
    return i >= 0 && i + 1 < words.length - 1 ? words[i + 1] : undefined;
  };
  let area: Area | undefined;
  const openArea = (): Area => {
    const explicit = optionValue('--area');
    const runArea = optionValue('--runarea');
    area ??= loadArea(findAreaDir(ctx.cwd, explicit && path.resolve(ctx.cwd, explicit)), {
      env: ctx.env,
      runArea: runArea && path.resolve(ctx.cwd, runArea),
      cpus: ctx.cpus,
    });
    return area;
  };
  let runs: RunKey[] | undefined;
  const readRuns = () => (runs ??= readRunKeys(runAreaPaths(openArea().runArea).mainDb));
  const sources: CompletionSources = {
    targets: () => [...listTargets(openArea()), ...readRuns().map((r) => r.target)],
    runNames: (target) =>
      readRuns()
        .filter((r) => target === undefined || r.target === target)
        .map((r) => r.runname),
    testNames: () => [...openArea().testNames],
  };
  const candidates = completeWords(words, sources);
  if (candidates.length > 0) ctx.stdout.write(`${candidates.join('\n')}\n`);
  return 0;
}
