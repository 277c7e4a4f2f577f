/**
 * What the server failover tests share: a test with N numbered items whose step sleeps, reports
 * through the server from inside the test (every `reportEvery`-th item: `trellis step` and
 * `trellis set-value`) and notes each execution in a file, items from a given number on waiting
 * for the test's go-ahead; and the checks that every result was
 * recorded exactly once, read straight from the run's SQLite database.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { runAreaPaths } from '../../src/config/paths.js';
import { readLines } from './run-e2e.js';

export interface ItemsSpec {
  /** items 1..n */
  n: number;
  /** seconds each item's step sleeps */
  sleep: number;
  /** items whose number is a multiple of this report a step and a value through the server */
  reportEvery: number;
  /** file (relative to the area) each execution of the step appends its item number to */
  doneFile: string;
  /**
   * items from this number on wait for the file RELEASE_FILE in the area before they start their
   * work, so that a test can act mid-run (kill the server) before the run can end
   */
  holdFrom?: number;
}

/** See ItemsSpec.holdFrom. */
export const RELEASE_FILE = 'release';

/** The testconfig: `[items] N 1..n` and one step. */
export function itemsTestconfig(spec: ItemsSpec): string {
  const step = [
    ...(spec.holdFrom === undefined
      ? []
      : [`if [ "$N" -ge ${spec.holdFrom} ]; then while [ ! -e "$MT_RUN_AREA_HOME/${RELEASE_FILE}" ]; do sleep 0.05; done; fi`]),
    `sleep ${spec.sleep}`,
    `if [ $((N % ${spec.reportEvery})) = 0 ]; then trellis step check --state start && trellis set-value v "$N" --expected "$N" && trellis step check --state end --status PASS || exit 1; fi`,
    `echo "$N" >> "$MT_RUN_AREA_HOME/${spec.doneFile}"`,
  ].join('; ');
  const items = Array.from({ length: spec.n }, (_, i) => i + 1).join(' ');
  return `[items]\nN ${items}\n\n[ezsteps]\nwork  ${step}\n`;
}

/** The step ran once for each item: no item lost, none run twice. */
export function checkExecutions(t: Test, area: string, spec: ItemsSpec): void {
  const executions = readLines(path.join(area, spec.doneFile));
  t.equal(executions.length, spec.n, `${spec.n} executions of the step`);
  t.equal(new Set(executions).size, spec.n, 'no item ran twice');
}

/**
 * Opens the run's database read-only and checks that test `testname` holds each result exactly
 * once: every item went NOT_STARTED → LAUNCHED → RUNNING → COMPLETED/PASS with one state event
 * each, the reporting items have one value and one `check` step, every item one `work` step.
 */
export function checkRecordedOnce(t: Test, runArea: string, testname: string, spec: ItemsSpec): void {
  const dbDir = runAreaPaths(runArea).dbDir;
  const runDbs = fs.readdirSync(dbDir).filter((f) => /^\d+\.db$/.test(f));
  t.equal(runDbs.length, 1, 'one run database', { files: runDbs });
  const db = new Database(path.join(dbDir, runDbs[0]!), { readonly: true, fileMustExist: true });
  try {
    const items = db.prepare(`SELECT id, itempath FROM tests WHERE testname = ? AND itempath <> ''`).all(testname) as Array<{
      id: number;
      itempath: string;
    }>;
    t.equal(items.length, spec.n, `${spec.n} item rows`);
    const itemOf = new Map(items.map((r) => [r.id, r.itempath]));
    const reports = (itempath: string) => Number(itempath) % spec.reportEvery === 0;

    const history = new Map<number, string[]>();
    const events = db.prepare(`SELECT test_id AS testId, detail FROM events WHERE kind = 'state' ORDER BY seq`).all() as Array<{
      testId: number;
      detail: string;
    }>;
    for (const e of events) {
      if (itemOf.has(e.testId)) history.set(e.testId, [...(history.get(e.testId) ?? []), e.detail]);
    }
    const wrong = [...itemOf].filter(([id]) => history.get(id)?.join(' ') !== 'NOT_STARTED/n/a LAUNCHED/n/a RUNNING/n/a COMPLETED/PASS');
    t.same(
      wrong.map(([id, itempath]) => ({ item: itempath, states: history.get(id) })),
      [],
      'every item has one state event each: NOT_STARTED, LAUNCHED, RUNNING, COMPLETED/PASS',
    );
    const completed = [...itemOf.keys()].filter((id) => history.get(id)?.filter((d) => d.startsWith('COMPLETED/')).length === 1);
    t.equal(completed.length, spec.n, 'exactly one COMPLETED event per item');

    const data = db.prepare(`SELECT test_id AS testId, name, value, status FROM test_data`).all() as Array<{
      testId: number;
      name: string;
      value: string;
      status: string;
    }>;
    t.same(
      data.map((d) => `${itemOf.get(d.testId)}:${d.name}=${d.value}:${d.status}`).sort(),
      items
        .filter((r) => reports(r.itempath))
        .map((r) => `${r.itempath}:v=${r.itempath}:PASS`)
        .sort(),
      `exactly one value for each of the ${Math.floor(spec.n / spec.reportEvery)} reporting items, and no other`,
    );

    const steps = db.prepare(`SELECT test_id AS testId, name, state, status FROM steps`).all() as Array<{
      testId: number;
      name: string;
      state: string;
      status: string;
    }>;
    const stepKeys = steps.map((s) => `${itemOf.get(s.testId) ?? `test ${s.testId}`}:${s.name}:${s.state}/${s.status}`);
    t.equal(new Set(stepKeys).size, stepKeys.length, 'no duplicate step rows');
    const expected: string[] = [];
    for (const r of items) {
      expected.push(`${r.itempath}:work:COMPLETED/PASS`);
      if (reports(r.itempath)) expected.push(`${r.itempath}:check:COMPLETED/PASS`);
    }
    t.same(stepKeys.sort(), expected.sort(), 'each item has its steps, each once, COMPLETED/PASS');
  } finally {
    db.close();
  }
}
