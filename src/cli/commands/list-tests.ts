/** `trellis list tests -t T -r R [-p P] [--state S] [--status S]`. */
import { testJson } from '../../report/records-json.js';
import { formatTable, formatTime } from '../../report/table.js';
import { openRun } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ListTestsOptions } from '../specs/list.js';
import { displayName } from '../../model/display-name.js';
import { termJsonList } from '../../util/terminal-text.js';

export async function execute(opts: ListTestsOptions, ctx: CommandContext): Promise<number> {
  const { store, run } = await openRun(opts, ctx);
  try {
    const tests = await store.listTests(run.id, { pattern: opts.pattern, state: opts.state ?? [], status: opts.status ?? [] });
    if (opts.json) {
      for (const piece of termJsonList(tests, testJson)) ctx.stdout.write(piece);
      ctx.stdout.write('\n');
      return 0;
    }
    const rows = tests.map((t) => [
      t.itempath === '' ? t.testname : `  ${displayName(t)}`,
      t.state,
      t.status,
      t.duration === null ? '-' : `${t.duration.toFixed(1)}s`,
      formatTime(t.start),
      t.comment,
    ]);
    ctx.stdout.write(`${formatTable(['TEST', 'STATE', 'STATUS', 'TIME', 'STARTED', 'COMMENT'], rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}
