/**
 * Carries out what a running test asks through its channel (in-test-channel.ts), for one job: the
 * writes go to the store as this job's own ops, with ids made from the request's id so a request
 * applied twice (the follower restarted between the write and the answer) changes nothing twice;
 * every error becomes the answer's exit code and message, so the test sees it.
 */
import fs from 'node:fs';
import path from 'node:path';
import escapeHtml from 'escape-html';
import picomatch from 'picomatch';
import { isInside } from '../config/paths.js';
import { checkLabel } from '../model/names.js';
import type { TestFields, WriteOp, WriteOptions } from '../model/records.js';
import { statusRank, worstStatus } from '../model/states.js';
import { judgeValue } from '../model/value-check.js';
import type { Store } from '../store/store.js';
import { isTrellisError, TrellisError } from '../util/errors.js';
import { writeFileAtomic } from '../util/files.js';
import { termLine } from '../util/terminal-text.js';
import type { InTestAction, InTestRequest, ValueSpec } from './in-test-requests.js';
import { judgeMegatestValue, parseTestData } from './megatest-data.js';
import { reportMarkFile } from './test-env.js';

/** What the caller gets back: its exit code and what to print. */
export interface InTestAnswer {
  code: number;
  stdout: string;
  stderr: string;
}

/** Everything a job's service needs. */
export interface InTestServiceContext {
  store: Store;
  runId: number;
  testId: number;
  testname: string;
  workDir: string;
  runArea: string;
  /** who writes, and whether the run was forced */
  writeOptions: WriteOptions;
  now: () => number;
  /** resolves once what the runner queued for this job is in the store (keeps the order of writes) */
  settled: () => Promise<void>;
  /** a unique mark of this run of the job, part of every op id */
  jobKey: string;
}

export class InTestService {
  readonly #ctx: InTestServiceContext;

  constructor(ctx: InTestServiceContext) {
    this.#ctx = ctx;
  }

  /** Carries out a request; never throws (an error is the answer). */
  async handle(id: string, request: InTestRequest, front: 'trellis' | 'megatest'): Promise<InTestAnswer> {
    const out: string[] = [];
    try {
      let n = 0;
      for (const action of request.actions) {
        const ops = await this.#opsOf(action, out, front);
        if (ops.length === 0) continue;
        await this.#ctx.settled();
        const options = request.force ? { ...this.#ctx.writeOptions, force: true } : this.#ctx.writeOptions;
        const time = this.#ctx.now();
        await this.#ctx.store.write(
          this.#ctx.runId,
          ops.map((op) => ({ ...op, opId: `in-${this.#ctx.jobKey}-${id}-${++n}`, time }) as WriteOp),
          options,
        );
        if (ops.some((op) => op.kind === 'data' || (op.kind === 'test' && op.set.status !== undefined))) this.#markReported();
      }
      return { code: 0, stdout: out.join(''), stderr: '' };
    } catch (err) {
      const e = isTrellisError(err) ? err : new TrellisError('INTERNAL', (err as Error).message, 'please report it');
      return { code: e.exitCode, stdout: out.join(''), stderr: `${front}: ${e.toLine()}\n` };
    }
  }

  async #opsOf(action: InTestAction, out: string[], front: 'trellis' | 'megatest'): Promise<PendingOp[]> {
    const testId = this.#ctx.testId;
    switch (action.kind) {
      case 'say':
        if (action.text !== '') out.push(action.text.endsWith('\n') ? action.text : `${action.text}\n`);
        return [];
      case 'step': {
        checkLabel('step name', action.name, front === 'trellis' ? 'step NAME' : '-step');
        const logfile = action.logfile === undefined ? undefined : this.#logPath(action.logfile);
        return [
          {
            kind: 'step',
            testId,
            name: action.name,
            state: action.phase === 'start' ? 'RUNNING' : 'COMPLETED',
            status: action.phase === 'start' ? 'n/a' : (action.status ?? 'PASS'),
            ...(action.message !== undefined ? { comment: clip(action.message) } : {}),
            ...(logfile !== undefined ? { logfile } : {}),
          },
        ];
      }
      case 'test-status': {
        const set: TestFields = {};
        if (action.state) set.state = action.state;
        if (action.status !== undefined) {
          const status = action.status === 'AUTO' ? await this.#autoStatus() : action.status;
          if (status !== undefined) {
            checkLabel('status', status, front === 'trellis' ? '--status' : ':status');
            set.status = status;
          }
        }
        if (action.message !== undefined) set.comment = clip(action.message);
        return Object.keys(set).length === 0 ? [] : [{ kind: 'test', testId, set }];
      }
      case 'values':
        return action.values.map((v) => this.#valueOp(v, front === 'trellis' ? 'trellis' : 'megatest', action.print ? out : undefined));
      case 'load-test-data':
        return parseTestData(action.csv).map((v) => this.#valueOp(v, 'megatest'));
      case 'test-paths':
        out.push(...(await this.#testPaths(action)).map((p) => `${p}\n`));
        return [];
      case 'summarize-items':
        await this.#summarizeItems();
        return [];
    }
  }

  #valueOp(v: ValueSpec, style: 'trellis' | 'megatest', print?: string[]): PendingOp {
    checkLabel('value name', v.name, style === 'trellis' ? 'set-value NAME' : ':category/:variable');
    let status: string;
    if (style === 'trellis') {
      const judged = judgeValue(v.value, v.expected, v.tol);
      if (judged.problem)
        throw new TrellisError('BAD_VALUE', `set-value ${v.name}: ${judged.problem}`, "e.g. --tol 0.5, --tol 10% or --tol '<'");
      status = judged.status;
    } else status = judgeMegatestValue(v);
    print?.push(`${termLine(`${v.name}=${v.value}`)} ${status}\n`);
    return {
      kind: 'data',
      testId: this.#ctx.testId,
      name: v.name,
      value: v.value,
      expected: v.expected ?? null,
      tol: v.tol ?? null,
      units: v.units ?? null,
      status,
      ...(v.comment !== undefined ? { comment: clip(v.comment) } : {}),
    };
  }

  /**
   * AUTO: the worst of the test's ended steps and judged values so far (Megatest rolls up the
   * values; Trellis counts the steps too). Undefined when nothing has a status yet: the status stays.
   */
  async #autoStatus(): Promise<string | undefined> {
    await this.#ctx.settled();
    const row = await this.#ctx.store.getTestById(this.#ctx.runId, this.#ctx.testId);
    if (!row) return undefined;
    const statuses = [...row.steps.filter((s) => s.state !== 'RUNNING').map((s) => s.status), ...row.data.map((d) => d.status)].filter(
      (s) => s !== 'n/a',
    );
    return statuses.length === 0 ? undefined : worstStatus(statuses);
  }

  /** A log named by the test: relative to its work folder, and never outside the run area. */
  #logPath(name: string): string {
    const file = path.resolve(this.#ctx.workDir, name);
    if (!isInside(this.#ctx.runArea, file)) {
      throw new TrellisError(
        'BAD_VALUE',
        `-setlog ${name}: ${file} is outside the run area ${this.#ctx.runArea}`,
        "name a file in the test's work folder",
      );
    }
    return file;
  }

  /** Megatest's -test-paths / -test-files: the work folders (or files in them) of matching tests, oldest first. */
  async #testPaths(a: Extract<InTestAction, { kind: 'test-paths' }>): Promise<string[]> {
    const { store } = this.#ctx;
    const runs = await store.listRuns({ target: a.target, runname: a.runname });
    const rows = [];
    for (const run of runs) rows.push(...(await store.listTests(run.id, { pattern: a.testpatt })).filter((r) => r.rundir !== ''));
    rows.sort((x, y) => (x.start ?? 0) - (y.start ?? 0) || x.rundir.localeCompare(y.rundir));
    const dirs = [...new Set(rows.map((r) => r.rundir))].filter((d) => isInside(this.#ctx.runArea, d));
    if (a.files === undefined) return dirs;
    return dirs.flatMap((d) => matchFiles(d, a.files!));
  }

  /** Megatest's -summarize-items: `megatest-rollup-TEST.html` in the test's own folder, its items' states and statuses. */
  async #summarizeItems(): Promise<void> {
    const { store, runId, testname } = this.#ctx;
    const top = await store.getTest(runId, testname, '');
    if (!top || top.rundir === '' || !isInside(this.#ctx.runArea, top.rundir)) {
      throw new TrellisError(
        'NO_TEST',
        `-summarize-items: test ${testname} has no work folder of its own`,
        'run it from a test with items',
      );
    }
    const items = (await store.listTests(runId, { pattern: `${testname}/%` })).filter((r) => r.testname === testname && r.itempath !== '');
    const count = (key: 'state' | 'status') => {
      const m = new Map<string, number>();
      for (const i of items) m.set(i[key], (m.get(i[key]) ?? 0) + 1);
      return [...m].sort((a, b) => statusRank(a[0]) - statusRank(b[0]) || a[0].localeCompare(b[0]));
    };
    const e = (s: string) => escapeHtml(s);
    const table = (title: string, rows: Array<[string, number]>) =>
      `<table border="1" cellspacing="0"><tr><th colspan="2">${title}</th></tr>${rows.map(([k, n]) => `<tr><td>${e(k)}</td><td>${n}</td></tr>`).join('')}<tr><td>Total</td><td>${items.length}</td></tr></table>`;
    const html = [
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Summary: ${e(testname)}</title></head><body><h2>Summary for ${e(testname)}</h2>`,
      table('State stats', count('state')),
      table('Status stats', count('status')),
      '<table border="1" cellspacing="0"><tr><th>Item</th><th>State</th><th>Status</th><th>Comment</th></tr>',
      ...items.map(
        (i) =>
          `<tr><td><a href="${e(encodeURI(i.itempath))}/">${e(i.itempath)}</a></td><td>${e(i.state)}</td><td>${e(i.status)}</td><td>${e(i.comment)}</td></tr>`,
      ),
      '</table></body></html>',
      '',
    ].join('\n');
    fs.mkdirSync(top.rundir, { recursive: true });
    writeFileAtomic(path.join(top.rundir, `megatest-rollup-${testname}.html`), html, 0o644);
  }

  #markReported(): void {
    try {
      fs.writeFileSync(reportMarkFile(this.#ctx.workDir), '');
    } catch {
      // The service itself knows what was reported: the mark only helps a later reader.
    }
  }
}

type PendingOp = Distribute<WriteOp>;
type Distribute<T> = T extends unknown ? Omit<T, 'opId' | 'time'> : never;

/** Files under `dir` matching a glob relative to it (Megatest: `glob(rundir/GLOB)`), sorted. */
function matchFiles(dir: string, glob: string): string[] {
  const match = picomatch(glob, { dot: false });
  const depth = glob.includes('**') ? 16 : glob.split('/').length;
  const found: string[] = [];
  const walk = (rel: string, level: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of entries) {
      const name = rel === '' ? ent.name : `${rel}/${ent.name}`;
      if (match(name)) found.push(path.join(dir, name));
      if (ent.isDirectory() && level < depth && found.length < 10_000) walk(name, level + 1);
    }
  };
  walk('', 1);
  return found.sort();
}

function clip(text: string): string {
  return text.length > 4096 ? `${text.slice(0, 4095)}…` : text;
}
