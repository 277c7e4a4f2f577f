/** `trellis show TEST[/ITEM] -t -r`: one test with its steps, logs and the tail of a failing log. */
import { testDetailJson } from '../../report/records-json.js';
import { formatTestDetail } from '../../report/test-detail.js';
import { TrellisError } from '../../util/errors.js';
import { readLogExcerpt } from '../../util/log-excerpt.js';
import { noRun, openArea, openStore, warnReaped } from '../area-access.js';
import { resolveTarget } from '../../config/area.js';
import type { CommandContext } from '../context.js';
import type { ShowOptions } from '../specs/show.js';
import { termJson } from '../../util/terminal-text.js';
import { resourcesOfTest } from '../../model/resources.js';
import { testResourcesJson } from '../../report/resources-text.js';

const TAIL_BYTES = 4096;

export async function execute(opts: ShowOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  const target = resolveTarget(area, opts.target);
  const store = await openStore(area, opts, ctx);
  try {
    const spec = opts.test;
    const slash = spec.indexOf('/');
    const testname = slash < 0 ? spec : spec.slice(0, slash);
    const itempath = slash < 0 ? '' : spec.slice(slash + 1);
    // One call: through a server, one round trip for the run, its reaping and the test.
    const shown = await store.showTest(
      { target: target.name, runname: opts.runname, testname, itempath, items: itempath === '' && !opts.json },
      { now: ctx.now(), deadtime: area.setup.deadtime },
    );
    if (shown === undefined) throw noRun(area, target.name, opts.runname);
    const { run, test: detail, claims, items } = shown;
    warnReaped(shown.reaped, ctx);
    if (!detail) {
      throw new TrellisError(
        'NO_TEST',
        `no test ${spec} in run ${target.name}/${run.runname}`,
        `see its tests with \`trellis list tests -t ${target.name} -r ${run.runname}\``,
      );
    }
    const resources = resourcesOfTest(claims, run.id, detail.id);
    if (opts.json) {
      const json = testDetailJson(detail);
      ctx.stdout.write(`${termJson(resources ? { ...(json as object), resources: testResourcesJson(resources) } : json)}\n`);
      return 0;
    }
    const bad = detail.steps.find((s) => s.status !== 'PASS' && s.status !== 'n/a') ?? detail.steps.find((s) => s.state === 'RUNNING');
    const tail = bad ? readTail(bad.logfile) : undefined;
    ctx.stdout.write(
      `${formatTestDetail(detail, { tail: tail && bad ? { step: bad.name, text: tail } : undefined, items, resources, params: run.params })}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

/** The end of a log (from a line's start), or undefined when it cannot be read. */
function readTail(file: string): string | undefined {
  const excerpt = readLogExcerpt(file, 0, TAIL_BYTES);
  if (excerpt.error !== undefined) return undefined;
  return excerpt.cut > 0 ? excerpt.tail : excerpt.head;
}
