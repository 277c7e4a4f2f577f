/**
 * What `trellis report` and `trellis run --junit` share: gather a run's results through the store,
 * read the log excerpts the reporter asks for (only their capped heads and tails), format, and
 * write the text to a file atomically after checking, before any work, that it can be written.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RunRecord, TestDetail } from '../model/records.js';
import { REPORTERS, type LogMode, type ReportFormat } from '../report/reporters.js';
import type { Store } from '../store/store.js';
import { TrellisError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { readLogExcerpts } from '../util/log-excerpt.js';

export interface ReportRequest {
  format: ReportFormat;
  /** test pattern (-p): only these tests and items */
  pattern?: string;
  logMode: LogMode;
  /** seconds since the epoch */
  now: number;
}

/** Reads the run's results and logs and returns the report's text. */
export async function buildReport(store: Store, run: RunRecord, req: ReportRequest): Promise<string> {
  const reporter = REPORTERS[req.format];
  const tests = await store.listDetails(run.id, req.pattern ? { pattern: req.pattern } : undefined);
  const itemParents = req.pattern?.includes('/') ? await findItemParents(store, run.id, tests) : undefined;
  const base = { run, tests, itemParents, now: req.now, logMode: req.logMode };
  const wanted = reporter.logsWanted(base);
  const logs = await readLogExcerpts(wanted.files, wanted.headBytes, wanted.tailBytes);
  return reporter.format({ ...base, logs });
}

/** Writes the JUnit report of run `runId`, as `trellis report junit` would, to `file` (`--junit`). */
export async function writeJunitFile(store: Store, runId: number, file: string, now: number): Promise<void> {
  const run = await store.getRun(runId);
  if (run === undefined)
    throw new TrellisError('NO_RUN', `--junit ${file}: the run (id ${runId}) is gone`, 'was it removed meanwhile? see `trellis list runs`');
  writeOutputFile(file, await buildReport(store, run, { format: 'junit', logMode: 'failed', now }), '--junit');
}

/**
 * Tests shown without any of their items although they have some: a pattern like `unit/none%`
 * chose the test's row but no item, and the rolled-up row must not then pass for a case.
 */
async function findItemParents(store: Store, runId: number, tests: readonly TestDetail[]): Promise<Set<string>> {
  const withItems = new Set(tests.filter((t) => t.itempath !== '').map((t) => t.testname));
  const lonely = new Set(tests.filter((t) => t.itempath === '' && !withItems.has(t.testname)).map((t) => t.testname));
  if (lonely.size === 0) return new Set();
  const all = await store.listTests(runId);
  return new Set(all.filter((t) => t.itempath !== '' && lonely.has(t.testname)).map((t) => t.testname));
}

/**
 * Resolves an output path (`-o`, `--junit`) and checks that it can be written, so that a run of
 * hours does not end in an unwritable report. Returns the absolute path.
 */
export function checkOutputFile(cwd: string, file: string, flag: string): string {
  const abs = path.resolve(cwd, file);
  const dir = path.dirname(abs);
  const fail = (what: string, hint = `choose another ${flag}`) => new TrellisError('OUTPUT_UNWRITABLE', `${flag} ${file}: ${what}`, hint);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    throw fail(`the folder ${dir} does not exist`, `create it first, or choose another ${flag}`);
  }
  if (!dirStat.isDirectory()) throw fail(`${dir} is not a folder`);
  if (!canWrite(dir)) throw fail(`the folder ${dir} is not writable`);
  const existing = fs.statSync(abs, { throwIfNoEntry: false });
  if (existing?.isDirectory()) throw fail(`${abs} is a folder`, `name a file in it, e.g. ${flag} ${path.join(file, 'results.xml')}`);
  if (existing && !canWrite(abs)) throw fail(`${abs} is not writable`);
  return abs;
}

/** Writes the report in one step (temp file + rename): a reader never sees half a file. */
export function writeOutputFile(file: string, text: string, flag: string): void {
  try {
    writeFileAtomic(file, text, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new TrellisError(
      'OUTPUT_UNWRITABLE',
      `${flag} ${file}: cannot write it (${e.code ?? e.message})`,
      "check the folder's permissions and free space, or choose another path",
      { cause: err },
    );
  }
}

function canWrite(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
