/** `trellis log -t T -r R [--kind K,K | --all] [--json]`: what happened to a run, and who did it. */
import type { EventRecord } from '../../model/records.js';
import { DEFAULT_LOG_KINDS, formatLog, LOG_KINDS, logJson, nameEvents, selectEvents } from '../../report/run-log.js';
import { formatTime } from '../../report/table.js';
import type { Store } from '../../store/store.js';
import { TrellisError } from '../../util/errors.js';
import { commaList, openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';

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

/** The kinds --kind or --all ask for. */
function readKinds(args: Record<string, unknown>): readonly string[] | 'all' {
  if (args['all'] === true) return 'all';
  if (args['kind'] === undefined) return DEFAULT_LOG_KINDS;
  const kinds = commaList(args['kind']).map((k) => k.toLowerCase());
  const bad = kinds.find((k) => !LOG_KINDS.includes(k));
  if (kinds.length === 0 || bad !== undefined) {
    throw new TrellisError('BAD_VALUE', `--kind '${String(args['kind'])}': ${bad ? `'${bad}' is not a kind` : 'expected a kind'}`, `use a comma list of ${LOG_KINDS.join(', ')}`);
  }
  return kinds;
}

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const kinds = readKinds(args);
  const { store, run } = await openRun(args, ctx);
  try {
    const all = await readAllEvents(store, run.id);
    const events = selectEvents(all, kinds);
    // Test names are needed only when test events are shown.
    const rows = events.some((e) => e.testId !== null) ? await store.listTests(run.id) : [];
    const entries = nameEvents(events, rows, all);
    if (args['json']) {
      ctx.stdout.write(`${JSON.stringify(logJson(entries), null, 2)}\n`);
      return 0;
    }
    const lock = run.state === 'locked' ? ` (locked by ${run.lockedBy || 'someone'} at ${formatTime(run.lockedAt)})` : '';
    ctx.stdout.write(`${run.target} ${run.runname}: ${run.state}${lock}, ${run.status}; created ${formatTime(run.created)}\n`);
    ctx.stdout.write(entries.length === 0 ? 'No events of that kind.\n' : formatLog(entries));
    return 0;
  } finally {
    await store.close();
  }
}
