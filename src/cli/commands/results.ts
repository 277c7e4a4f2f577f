/**
 * `trellis run-open`, `trellis result`, `trellis close`: a run fed from outside its area. The daily
 * build opens the day's run, its scripts append their results, and the run is closed at the end.
 */
import { resolveTarget } from '../../config/area.js';
import { checkRunName } from '../../model/names.js';
import { displayName } from '../../model/display-name.js';
import type { ExternalResult } from '../../model/records.js';
import { formatTime } from '../../report/table.js';
import { TrellisError } from '../../util/errors.js';
import { shortHostname, whoAmI } from '../../util/host.js';
import { readLogExcerpt } from '../../util/log-excerpt.js';
import { termLine } from '../../util/terminal-text.js';
import { openArea, openRun, openStore } from '../area-access.js';
import type { CommandModule } from '../context.js';
import { splitTestName } from '../run-area-store.js';
import type { CloseOptions, ResultOptions, RunOpenOptions } from '../specs/results.js';

/** The most of a log a result carries (head and tail of a bigger file). */
const LOG_BYTES = 2 * 1024 * 1024;

/** `trellis run-open -t T -r R`: creates the run; nothing is launched. An open run is left as it is. */
export const runOpenCommand: CommandModule<RunOpenOptions> = {
  async execute(opts, ctx) {
    const area = openArea(opts, ctx);
    const target = resolveTarget(area, opts.target);
    checkRunName(opts.runname, '-r');
    const store = await openStore(area, opts, ctx);
    try {
      const before = await store.findRun(target.name, opts.runname);
      const run = before ?? (await store.ensureRun({ target: target.name, keys: target.keys, runname: opts.runname }));
      const name = termLine(`${run.target}/${run.runname}`);
      if (before === undefined) {
        const how = termLine(`trellis result -t ${run.target} -r ${run.runname} NAME STATUS`);
        ctx.stdout.write(`Opened ${name}: nothing is launched; append results with \`${how}\`\n`);
      } else
        ctx.stdout.write(`${name} exists (${run.state}${run.closedAt !== undefined ? `, closed at ${formatTime(run.closedAt)}` : ''})\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** `trellis close -t T -r R`: no more results unless forced. */
export const closeCommand: CommandModule<CloseOptions> = {
  async execute(opts, ctx) {
    const { store, run } = await openRun(opts, ctx);
    try {
      const name = termLine(`${run.target}/${run.runname}`);
      if (run.closedAt !== undefined) {
        ctx.stdout.write(`${name} is already closed (at ${formatTime(run.closedAt)})\n`);
        return 0;
      }
      const r = await store.closeRun(run.id, { who: whoAmI(ctx.env) });
      ctx.stdout.write(`Closed ${name} at ${formatTime(r.closedAt ?? null)}; it takes no more results unless --force\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};

/** `trellis result -t T -r R NAME[/ITEM] STATUS …`: one result appended. */
export const resultCommand: CommandModule<ResultOptions> = {
  async execute(opts, ctx) {
    const { testname, itempath } = splitTestName(opts.name);
    const status = opts.status === 'n/a' ? 'n/a' : opts.status.toUpperCase();
    let log: string | undefined;
    if (opts.log !== undefined) {
      const x = readLogExcerpt(opts.log, LOG_BYTES, 0);
      if (x.error !== undefined) {
        throw new TrellisError('BAD_VALUE', `--log ${opts.log}: cannot read it (${x.error})`, 'give a readable file, or leave --log out');
      }
      log = x.cut > 0 ? `${x.head}\n[… ${x.cut} bytes of ${opts.log} left out …]\n` : x.head;
    }
    const result: ExternalResult = {
      testname,
      itempath,
      state: opts.state as ExternalResult['state'],
      status,
      start: opts.start?.epoch ?? null,
      end: opts.end?.epoch ?? null,
      host: opts.host ?? shortHostname(),
      comment: opts.comment ?? '',
      values: opts.value ?? [],
      ...(log !== undefined ? { log } : {}),
    };
    const { store, run, area } = await openRun(opts, ctx).catch((err: unknown) => {
      // Results go to a run opened for them: say how, rather than how to run the area.
      if (err instanceof TrellisError && err.code === 'NO_RUN') {
        throw new TrellisError('NO_RUN', err.message, `open it first with \`trellis run-open -t ${opts.target} -r ${opts.runname}\``);
      }
      throw err;
    });
    try {
      const row = await store.appendResult(
        run.id,
        { ...result, ...(area.testNames.includes(testname) ? { areaTest: true } : {}) },
        { who: whoAmI(ctx.env), ...(opts.force ? { force: true } : {}) },
      );
      const kind = row.external ? 'external' : 'a test of the area';
      ctx.stdout.write(`${termLine(`${displayName(row)} in ${run.target}/${run.runname}: ${row.state} ${row.status} (${kind})`)}\n`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
