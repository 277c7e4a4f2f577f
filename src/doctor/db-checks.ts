/**
 * The doctor's look at `.db/`: the runs index, each run's database (there, SQLite, consistent, its
 * own), run databases without a row, and files kept aside. Repairs that write a database need the
 * write lease; without it (a live server holds it) they are reported as not done.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import type { RunAreaPaths } from '../config/paths.js';
import { readIndex, quickCheck, readRunDbIdentity, type IndexedRun } from '../db/db-inspect.js';
import { MainDb } from '../db/main-db.js';
import { note, ok, problem, type Finding } from '../model/doctor.js';
import { describeDbFileState, inspectDbFile, listRunDbIds } from '../util/db-files.js';
import { adoptRunDb, rebuildIndex, setAside, type Adoptee } from './db-repair.js';

export interface DbCheckOptions {
  paths: RunAreaPaths;
  repair: boolean;
  now: () => number;
  /** the keys of a target (from the area's [fields], when known), for rows rebuilt from run databases */
  keysOf: (target: string) => Record<string, string>;
  /** `.meta/area-id`, when it holds one: the area a rebuilt index belongs to */
  recordedAreaId: string | undefined;
  /**
   * Takes the write lease for repairs that write databases, returning its release; or says why it
   * cannot (a live server holds it).
   */
  takeLease: () => Promise<(() => Promise<void>) | string>;
}

export interface DbReport {
  findings: Finding[];
  /** main.db's area id after the look (and any rebuild) */
  areaId: string | undefined;
  /** the runs the index lists after the look; undefined when there is no usable index */
  runs: IndexedRun[] | undefined;
}

/** Looks at `.db/` (repairing with `repair`). */
export async function examineDatabases(opts: DbCheckOptions): Promise<DbReport> {
  const { paths } = opts;
  const findings: Finding[] = [];
  if (!existsSync(paths.dbDir)) {
    findings.push(note('databases', `${paths.dbDir} does not exist yet: nothing has been recorded here`));
    return { findings, areaId: undefined, runs: [] };
  }
  const ids = listRunDbIds(paths.dbDir);
  const index = readMainIndex(paths.mainDb);
  if (typeof index === 'string') {
    findings.push(...(await repairIndex(opts, index, ids)), ...listKeptAside(paths.dbDir));
    const after = existsSync(paths.mainDb) || ids.length > 0 ? readMainIndex(paths.mainDb) : { areaId: undefined, runs: [] };
    if (typeof after === 'string') return { findings, areaId: undefined, runs: undefined };
    return { findings, areaId: after.areaId, runs: after.runs };
  }
  findings.push(ok('databases', `${paths.mainDb} is consistent: ${index.runs.length} run${index.runs.length === 1 ? '' : 's'}`));
  for (const run of index.runs) findings.push(examineRunDb(paths, run, index.areaId));
  const rowIds = new Set(index.runs.map((r) => r.id));
  const orphans = ids.filter((id) => !rowIds.has(id));
  if (orphans.length > 0) findings.push(...(await adoptOrphans(opts, index.areaId, index.runs, orphans)));
  findings.push(...listKeptAside(paths.dbDir));
  const after = opts.repair && orphans.length > 0 ? readMainIndex(paths.mainDb) : index;
  return { findings, areaId: index.areaId, runs: typeof after === 'string' ? index.runs : after.runs };
}

/** main.db's id and runs when it is there and consistent; else what is wrong with it. */
function readMainIndex(file: string): { areaId: string; runs: IndexedRun[] } | string {
  const state = inspectDbFile(file);
  if (state !== 'ok') return describeDbFileState(state);
  const damage = quickCheck(file);
  if (damage !== undefined) return `is damaged (${damage})`;
  const index = readIndex(file);
  return typeof index === 'string' ? `cannot be read (${index})` : index;
}

/** The runs index is unusable: rebuild it from the run databases (with the lease), or say how. */
async function repairIndex(opts: DbCheckOptions, why: string, ids: readonly number[]): Promise<Finding[]> {
  const { paths } = opts;
  if (ids.length === 0) {
    if (why === describeDbFileState('missing')) return [note('databases', `${paths.mainDb} does not exist yet: the first run makes it`)];
    const f = problem(
      'databases',
      `the runs index ${paths.mainDb} ${why}; no run database lies beside it`,
      'move it aside; a new one is made on first use',
    );
    return [opts.repair ? withAside(f, paths.mainDb, opts.now()) : f];
  }
  const f = problem(
    'databases',
    `the runs index ${paths.mainDb} ${why}, but ${ids.length} run database${ids.length === 1 ? '' : 's'} lie beside it`,
    'run `trellis doctor --repair` to rebuild it from them (or restore it from a backup)',
  );
  if (!opts.repair) return [f];
  const candidates = collectAdoptees(paths, ids, opts.recordedAreaId);
  const release = await opts.takeLease();
  if (typeof release === 'string') return [{ ...f, fix: `not rebuilt: ${release}` }];
  try {
    const aside = rebuildIndex(paths, candidates.areaId, candidates.adopt, opts.keysOf, opts.now());
    for (const a of candidates.setAside) setAside(a.file, opts.now());
    const parts = [`rebuilt it from ${candidates.adopt.length} run database${candidates.adopt.length === 1 ? '' : 's'}`];
    if (aside) parts.push(`the old one is kept as ${path.basename(aside)}`);
    if (candidates.setAside.length > 0) parts.push(`${candidates.setAside.length} of another area or a duplicate run moved aside`);
    return [{ ...f, repaired: parts.join('; ') }];
  } finally {
    await release();
  }
}

/** The run databases a rebuilt index takes (one area, one file per run) and the ones it cannot. */
function collectAdoptees(paths: RunAreaPaths, ids: readonly number[], recorded: string | undefined) {
  const found: Array<Adoptee & { areaId: string }> = [];
  const setAside: Adoptee[] = [];
  for (const id of ids) {
    const file = paths.runDb(id);
    const who = inspectDbFile(file) === 'ok' && quickCheck(file) === undefined ? readRunDbIdentity(file) : 'damaged';
    if (
      typeof who === 'string' ||
      who.target === undefined ||
      who.runname === undefined ||
      who.areaId === undefined ||
      (who.runId !== undefined && who.runId !== id)
    ) {
      setAside.push({ id, file, target: '', runname: '' });
      continue;
    }
    found.push({ id, file, target: who.target, runname: who.runname, areaId: who.areaId });
  }
  // The area: what .meta records, else what most run databases say.
  const votes = new Map<string, number>();
  for (const f of found) votes.set(f.areaId, (votes.get(f.areaId) ?? 0) + 1);
  const areaId = recorded ?? [...votes].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const adopt: Adoptee[] = [];
  const names = new Set<string>();
  // Newest first: of two files claiming one run, the later id is the one in use.
  for (const f of [...found].sort((a, b) => b.id - a.id)) {
    const name = `${f.target}\n${f.runname}`;
    if (f.areaId !== areaId || names.has(name)) setAside.push(f);
    else {
      names.add(name);
      adopt.push(f);
    }
  }
  return { areaId: areaId || newAreaId(), adopt: adopt.reverse(), setAside };
}

function newAreaId(): string {
  return randomBytes(16).toString('hex');
}

/** One run's database: there, SQLite, consistent, its own. */
function examineRunDb(paths: RunAreaPaths, run: IndexedRun, areaId: string): Finding {
  const file = paths.runDb(run.id);
  const name = `run ${run.target}/${run.runname}`;
  const remove = `restore it from a backup, or remove the run (its results are gone): trellis remove -t ${run.target} -r ${run.runname}`;
  const state = inspectDbFile(file);
  if (state !== 'ok') {
    if (state === 'missing' && run.total === 0 && run.state === 'new')
      return note('databases', `${name} has no database yet (it registered no test)`);
    return problem('databases', `the database of ${name} (${file}) ${describeDbFileState(state)}`, remove);
  }
  const damage = quickCheck(file);
  if (damage !== undefined) return problem('databases', `the database of ${name} (${file}) is damaged (${damage})`, remove);
  const who = readRunDbIdentity(file);
  if (typeof who === 'string') return problem('databases', `the database of ${name} (${file}) cannot be read (${who})`, remove);
  if ((who.runId !== undefined && who.runId !== run.id) || (who.areaId !== undefined && who.areaId !== areaId)) {
    return problem(
      'databases',
      `${file} holds run ${who.runId ?? '?'} (${who.target ?? '?'}/${who.runname ?? '?'}) of area ${who.areaId ?? '?'}, not ${name}`,
      "move it aside (it is another run's file) and restore this run's from a backup",
    );
  }
  return ok('databases', `the database of ${name} is consistent`);
}

/** Run databases with no row: put back under their id when they are this area's and their run name is free. */
async function adoptOrphans(
  opts: DbCheckOptions,
  areaId: string,
  rows: readonly IndexedRun[],
  orphans: readonly number[],
): Promise<Finding[]> {
  const { paths } = opts;
  const taken = new Set(rows.map((r) => `${r.target}\n${r.runname}`));
  const plans = orphans.map((id) => {
    const file = paths.runDb(id);
    const who = inspectDbFile(file) === 'ok' && quickCheck(file) === undefined ? readRunDbIdentity(file) : 'damaged or not SQLite';
    const usable =
      typeof who !== 'string' && who.target !== undefined && who.runname !== undefined && who.areaId === areaId && (who.runId ?? id) === id;
    const name = typeof who === 'string' ? '' : `${who.target ?? '?'}/${who.runname ?? '?'}`;
    const free = usable && !taken.has(`${who.target}\n${who.runname}`);
    const why =
      typeof who === 'string'
        ? who
        : !usable
          ? `it belongs to area ${who.areaId ?? '?'} or run ${who.runId ?? '?'}`
          : !free
            ? `the index already has a run ${name}`
            : '';
    return { id, file, who, name, free, why };
  });
  const findings = plans.map((p) =>
    p.free
      ? problem(
          'databases',
          `${p.file} (run ${p.name}) has no row in ${paths.mainDb}: the run is missing from every list`,
          'run `trellis doctor --repair` to put it back',
        )
      : problem(
          'databases',
          `${p.file} has no row in ${paths.mainDb} and cannot be put back (${p.why})`,
          'run `trellis doctor --repair` to move it aside, then look at it',
        ),
  );
  if (!opts.repair) return findings;
  const release = await opts.takeLease();
  if (typeof release === 'string') return findings.map((f) => ({ ...f, fix: `not repaired: ${release}` }));
  try {
    const main = MainDb.open(paths.mainDb);
    try {
      return plans.map((p, i) => {
        if (!p.free || typeof p.who === 'string') {
          const aside = setAside(p.file, opts.now());
          return { ...findings[i]!, repaired: `moved it aside${aside ? ` as ${path.basename(aside)}` : ''}` };
        }
        adoptRunDb(
          main,
          { id: p.id, file: p.file, target: p.who.target!, runname: p.who.runname! },
          areaId,
          opts.keysOf(p.who.target!),
          opts.now(),
        );
        return { ...findings[i]!, repaired: `put run ${p.name} back under id ${p.id}` };
      });
    } finally {
      main.close();
    }
  } finally {
    await release();
  }
}

/** Files kept aside earlier (`*.orphan-*`, `*.damaged-*`): nothing wrong, but worth knowing. */
function listKeptAside(dbDir: string): Finding[] {
  const kept = new Set(
    readdirSync(dbDir)
      .map((n) => /^(.*\.(?:orphan|damaged)-\d+)(?:-wal|-shm)?$/.exec(n)?.[1])
      .filter((n): n is string => n !== undefined),
  );
  return [...kept]
    .sort()
    .map((n) =>
      note(
        'databases',
        `${path.join(dbDir, n)} (with its -wal, if any) was kept aside by an earlier repair or run`,
        'look at it, then delete it when nothing in it is needed',
      ),
    );
}

function withAside(f: Finding, file: string, now: number): Finding {
  const aside = `${file}.damaged-${Math.round(now)}`;
  for (const s of ['', '-wal', '-shm']) if (existsSync(file + s)) renameSync(file + s, aside + s);
  return { ...f, repaired: `moved it aside as ${path.basename(aside)}` };
}
