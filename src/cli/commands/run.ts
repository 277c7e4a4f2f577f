/** `trellis run`: run the area's tests for a target and run name. */
import fs from 'node:fs';
import type { FeedCursor, RunRecord } from '../../model/records.js';
import { RemoteStore } from '../../client/remote-store.js';
import { resolveTarget } from '../../config/area.js';
import { resolveParams } from '../../config/params.js';
import { runTests, type RunObserver, type RunResult } from '../../runner/run.js';
import { formatEnded, formatProgress, formatSummary, type Tally } from '../../report/summary.js';
import { ExitCode } from '../../util/errors.js';
import { shortHostname, whoAmI } from '../../util/host.js';
import { processStartTime } from '../../util/process-info.js';
import { isDirect, openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { RunOptions } from '../specs/run.js';
import { checkOutputFile, writeJunitFile } from '../report-output.js';
import { termLine } from '../../util/terminal-text.js';
import { parseInTestHelper } from '../in-test-parse.js';

export const handlesSignals = true;

/** Runs the tests and prints progress and a summary; exit 0 only when every selected test passed. */
export async function execute(opts: RunOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  // The target's values are names too: checked before anything (a server even) starts.
  resolveTarget(area, opts.target);
  // Every parameter is checked before a server starts or anything runs: one line per problem.
  const params = resolveParams(area.params, opts.param, area.configFile);
  // Checked before anything runs: a run of hours must not end in a report that cannot be written.
  const junit = opts.junit === undefined ? undefined : checkOutputFile(ctx.cwd, opts.junit, '--junit');
  const store = await openStore(area, opts, ctx, 'runner');
  let started: RunRecord | undefined;
  const tally: Tally = { total: 0, done: 0, running: 0, byStatus: new Map() };
  const t0 = ctx.now();
  const tty = ctx.stdout.isTTY === true;
  let lastPaint = 0;
  const paint = (force = false) => {
    if (!tty) return;
    const now = ctx.now();
    if (!force && now - lastPaint < 0.1) return;
    lastPaint = now;
    ctx.stdout.write(`\r\x1b[2K${formatProgress(tally, now - t0)}`);
  };
  const clearLine = () => tty && ctx.stdout.write('\r\x1b[2K');
  const observer: RunObserver = {
    planned(info) {
      started = info.run;
      for (const w of info.warnings) ctx.log.warn(w);
      tally.total = info.toRun;
      if (!tty)
        ctx.stdout.write(
          `${termLine(`Running ${info.toRun} of ${info.jobs} tests and items of ${info.run.target}/${info.run.runname}`)}\n`,
        );
      paint(true);
    },
    started() {
      tally.running++;
      paint();
    },
    waiting(job, comment) {
      // Said once per change of holders, on a terminal too: a run that seems stuck says why.
      clearLine();
      ctx.stdout.write(`${formatEnded(job.key, 'WAITING', comment, null)}\n`);
      paint(true);
    },
    parked(job, comment) {
      tally.running--;
      clearLine();
      ctx.stdout.write(
        `${termLine(`${job.key}: WAITING for a sign-off (${comment}); trellis approve -t ${opts.target} -r ${opts.runname} ${job.key}`)}\n`,
      );
      paint(true);
    },
    ended(job, status, comment, seconds) {
      if (seconds !== null) tally.running--;
      tally.done++;
      tally.byStatus.set(status, (tally.byStatus.get(status) ?? 0) + 1);
      if (!tty) ctx.stdout.write(`${formatEnded(job.key, status, comment, seconds)}\n`);
      else if (status !== 'PASS') {
        clearLine();
        ctx.stdout.write(`${formatEnded(job.key, status, comment, seconds)}\n`);
        paint(true);
      } else paint();
    },
  };
  // Keep the elapsed time moving while long tests run.
  const ticker = tty ? setInterval(() => paint(), 1000) : undefined;
  ticker?.unref();
  try {
    let result: RunResult;
    try {
      result = await runTests(
        {
          target: opts.target,
          runname: opts.runname,
          pattern: opts.pattern,
          jobs: opts.jobs,
          rerun: opts.rerun ?? [],
          rerunClean: opts.rerunClean,
          rerunAll: opts.rerunAll,
          preclean: opts.preclean,
          force: opts.force,
          ...(opts.launcher !== undefined ? { launcher: opts.launcher } : {}),
          ...(opts.on !== undefined ? { on: opts.on } : {}),
          reqtarg: opts.reqtarg,
          params,
          resume: opts.resume || opts.fromStep !== undefined,
          ...(opts.fromStep !== undefined ? { fromStep: opts.fromStep } : {}),
        },
        {
          area,
          store,
          // A direct run's tests report directly too: no server opens the databases under it.
          env: isDirect(opts, ctx) ? { ...ctx.env, TRELLIS_DIRECT: '1' } : ctx.env,
          host: shortHostname(),
          pid: ctx.pid,
          procStart: processStartTime(ctx.pid),
          binDir: ctx.binDir,
          shell: fs.existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh',
          who: whoAmI(ctx.env),
          now: ctx.now,
          signal: ctx.signal,
          hardSignal: ctx.hardSignal,
          observer,
          parseHelper: parseInTestHelper,
          direct: isDirect(opts, ctx),
          ...(store instanceof RemoteStore
            ? { waitForChanges: (c: FeedCursor, ms: number, s: AbortSignal) => store.waitForChanges(c, ms, s) }
            : {}),
          warn: (m) => {
            clearLine();
            ctx.log.warn(m);
            paint(true);
          },
        },
      );
    } catch (err) {
      // The run began: its report still says what was recorded. The run's own error is what counts.
      if (junit !== undefined && started !== undefined) {
        await writeJunitFile(store, started.id, junit, ctx.now()).catch((e: Error) => ctx.log.warn(`no JUnit report: ${e.message}`));
      }
      throw err;
    }
    clearLine();
    const byStatus = new Map<string, number>();
    for (const j of result.jobs) byStatus.set(j.status, (byStatus.get(j.status) ?? 0) + 1);
    ctx.stdout.write(
      `${formatSummary({
        target: result.run.target,
        runname: result.run.runname,
        jobs: result.jobs.length,
        ran: tally.done,
        byStatus,
        failures: result.failures,
        interrupted: result.interrupted,
        parked: result.parked,
        seconds: result.seconds,
      })}\n`,
    );
    if (junit !== undefined) {
      await writeJunitFile(store, result.run.id, junit, ctx.now());
      ctx.stdout.write(`JUnit report: ${junit}\n`);
    }
    if (result.interrupted) return ExitCode.interrupted;
    return result.failures.length === 0 ? ExitCode.ok : ExitCode.testsFailed;
  } finally {
    if (ticker) clearInterval(ticker);
    clearLine();
    await store.close();
  }
}
