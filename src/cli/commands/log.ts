/** `trellis log -t T -r R [--kind K,K | --all] [--json]`: what happened to a run, and who did it. */
import type { EventRecord } from '../../model/records.js';
import { DEFAULT_LOG_KINDS, formatLog, logJson, nameEvents, selectEvents } from '../../report/run-log.js';
import { formatTime } from '../../report/table.js';
import type { Store } from '../../store/store.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { LogOptions } from '../specs/diff.js';
import { termJson, termLine } from '../../util/terminal-text.js';

/** The most events one call may ask the store (and a server) for. */
const PAGE = 10_000;

/** Every event of the run, oldest first, a page at a time. */
async function readAllEvents(store: Store, runId: number): Promise<EventRecord[]> {
  const all: EventRecord[] = [];
  for (;;) {
    const page = await store.events(runId, all.length === 0 ? 0 : all[all.length - 1]!.seq, PAGE);
    all.push(...page);
    if (page.length < PAGE) return all;
  }
}

export async function execute(opts: LogOptions, ctx: CommandContext): Promise<number> {
  const kinds = opts.all ? 'all' : (opts.kind ?? DEFAULT_LOG_KINDS);
  const { store, run } = await openRun(opts, ctx);
  try {
    const all = await readAllEvents(store, run.id);
    const events = selectEvents(all, kinds);
    // Test names are needed only when test events are shown.
    const rows = events.some((e) => e.testId !== null) ? await store.listTests(run.id) : [];
    const entries = nameEvents(events, rows, all);
    if (opts.json) {
      ctx.stdout.write(`${termJson(logJson(entries))}\n`);
      return 0;
    }
    const lock = run.state === 'locked' ? ` (locked by ${run.lockedBy || 'someone'} at ${formatTime(run.lockedAt)})` : '';
    ctx.stdout.write(
      `${termLine(`${run.target} ${run.runname}: ${run.state}${lock}, ${run.status}; created ${formatTime(run.created)}`)}\n`,
    );
    ctx.stdout.write(entries.length === 0 ? 'No events of that kind.\n' : formatLog(entries));
    return 0;
  } finally {
    await store.close();
  }
}
