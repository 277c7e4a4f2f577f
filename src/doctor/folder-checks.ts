/**
 * The doctor's look at the work folders: folders where a run's folder would be that no run in
 * the index owns, and test folders inside a run's folder that no row of its database names. They
 * are only reported: they may hold the only logs of something, so no repair deletes them.
 */
import { type Dirent, readdirSync } from 'node:fs';
import path from 'node:path';
import { runAreaPaths, type RunAreaPaths } from '../config/paths.js';
import type { IndexedRun } from '../db/db-inspect.js';
import { readRundirs } from '../db/db-inspect.js';
import { note, ok, type Finding } from '../model/doctor.js';

/** Most folders named one by one; the rest are counted. */
const MAX_LISTED = 20;

export interface FolderCheckOptions {
  paths: RunAreaPaths;
  /** the runs of the index; undefined when there is no usable index to compare with */
  runs: readonly IndexedRun[] | undefined;
  /** how many values a target has (the area's [fields]), when the area is known */
  keyCount: number | undefined;
}

/** Work folders without a run, and test folders without a row. */
export function examineFolders(opts: FolderCheckOptions): Finding[] {
  const { paths, runs } = opts;
  if (runs === undefined) return [note('folders', 'not checked: there is no usable runs index to compare the work folders with')];
  const layout = runAreaPaths(paths.root);
  const depths = new Set(runs.map((r) => r.target.split('/').length + 1));
  if (opts.keyCount !== undefined) depths.add(Math.max(1, opts.keyCount) + 1);
  if (depths.size === 0)
    return [note('folders', 'no runs and no area config: work folders cannot be told from other folders; not checked')];
  const runDirs = new Map(runs.map((r) => [layout.runDir(r.target.split('/'), r.runname), r]));
  const ancestors = new Set<string>();
  for (const dir of runDirs.keys()) for (let d = path.dirname(dir); d.length > paths.root.length; d = path.dirname(d)) ancestors.add(d);

  const strays: string[] = [];
  for (const depth of depths) {
    for (const dir of foldersAt(paths.root, depth)) {
      if (!runDirs.has(dir) && !ancestors.has(dir) && ![...runDirs.keys()].some((r) => dir.startsWith(r + path.sep))) strays.push(dir);
    }
  }
  const untracked: string[] = [];
  for (const [dir, run] of runDirs) {
    const tests = foldersAt(dir, 1);
    if (tests.length === 0) continue;
    const named = new Set(
      readRundirs(paths.runDb(run.id))
        .map((r) => firstLevelUnder(dir, r))
        .filter((x): x is string => x !== undefined),
    );
    for (const t of tests) if (!named.has(t)) untracked.push(t);
  }
  const findings: Finding[] = [];
  const fix = 'nothing refers to it: remove it by hand (rm -r) if its logs are not needed; --repair leaves it';
  for (const dir of strays.slice(0, MAX_LISTED)) findings.push(note('folders', `${dir} is a work folder of no run in the index`, fix));
  for (const dir of untracked.slice(0, MAX_LISTED))
    findings.push(note('folders', `${dir} is a test folder with no row in its run's database`, fix));
  const more = Math.max(0, strays.length - MAX_LISTED) + Math.max(0, untracked.length - MAX_LISTED);
  if (more > 0) findings.push(note('folders', `and ${more} more such folders`, fix));
  if (findings.length === 0) findings.push(ok('folders', `every work folder belongs to a run and test (${runDirs.size} run folders)`));
  return findings;
}

/** Folders exactly `depth` levels below `root` (hidden ones at the top — .meta, .db — left out). */
function foldersAt(root: string, depth: number): string[] {
  let level = [root];
  for (let i = 0; i < depth; i++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of entries) if (e.isDirectory() && !(i === 0 && e.name.startsWith('.'))) next.push(path.join(dir, e.name));
    }
    level = next;
  }
  return level;
}

/** The folder one level below `dir` on the way to `target`, or undefined when `target` is not below it. */
function firstLevelUnder(dir: string, target: string): string | undefined {
  const rel = path.relative(dir, target);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return path.join(dir, rel.split(path.sep)[0]!);
}
