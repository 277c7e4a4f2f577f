/**
 * What the front ends' actions do (the dashboard's R, K and S keys; the web view's buttons and its
 * run form), wired to the same code as `trellis run`, `trellis kill` and `trellis set-state-status`:
 * every change goes through the store (the server), so locks, the events log and the change feed
 * apply as for the commands. A locked run, or one a live runner holds, is refused here at once,
 * with the words the commands use, before anything is started.
 */
import path from 'node:path';
import { runAreaPaths } from '../config/paths.js';
import type { Area } from '../config/types.js';
import { displayName } from '../model/display-name.js';
import type { RunRecord } from '../model/records.js';
import { parseStateStatus } from '../model/states.js';
import { approveTests } from '../runner/approve.js';
import { assertNoLiveRunner, requestKill, setStateStatus } from '../runner/run-admin.js';
import { checkRunLock } from '../store/run-lock.js';
import type { Store } from '../store/store.js';
import { makeDirs } from '../util/files.js';
import { loginName, shortHostname, whoAmI } from '../util/host.js';
import { readLastLine, spawnDetached } from '../util/spawn-detached.js';
import type { RunStart, TestActions } from '../view/actions.js';
import type { CommandContext } from './context.js';

export interface ActionDeps {
  store: Store;
  area: Area;
  ctx: CommandContext;
  /** --direct: started runs open the databases themselves too */
  direct: boolean;
}

/** The actions on tests and runs, for the dashboard and the web view. */
export function createTestActions({ store, area, ctx, direct }: ActionDeps): TestActions {
  let started = 0;
  const liveness = () => ({ now: ctx.now(), deadtime: area.setup.deadtime });

  /** Refuses a locked run (as `trellis run` would) or one a live runner holds (RUN_BUSY). */
  const checkStartable = async (run: RunRecord | undefined, what: string): Promise<void> => {
    if (run === undefined) return;
    checkRunLock(run, {}, what);
    await assertNoLiveRunner(store, run, liveness(), shortHostname());
  };

  /** Starts the run detached; `label` names it in later news. Returns its pid and log. */
  const start = (
    s: RunStart,
    label: string,
    notify: (message: string) => void,
    who: string | undefined,
  ): { pid: number | undefined; log: string } => {
    const logsDir = runAreaPaths(area.runArea).logsDir;
    makeDirs(logsDir);
    const kind = s.rerunAll ? 'rerun' : 'run';
    const log = path.join(logsDir, `${kind}-${shortHostname()}-${ctx.pid}-${++started}.log`);
    // An argument list, never a shell line: names and patterns are passed as they are, each
    // joined to its option so that one starting with '-' is not read as an option.
    const args = [
      path.join(ctx.binDir, 'trellis.js'),
      'run',
      `--area=${area.dir}`,
      `--runarea=${area.runArea}`,
      `--target=${s.target}`,
      `--runname=${s.runname}`,
      ...(s.pattern !== '' ? [`--pattern=${s.pattern}`] : []),
      ...(s.launcher !== undefined ? [`--launcher=${s.launcher}`] : []),
      ...(s.rerunAll ? ['--rerun-all'] : []),
      ...Object.entries(s.params ?? {}).map(([k, v]) => `--param=${k}=${v}`),
      ...(direct ? ['--direct'] : []),
    ];
    const env = { ...ctx.env, ...(who !== undefined ? { TRELLIS_WHO: who } : {}) };
    const child = spawnDetached(args, { logFile: log, logFlags: 'w', env, cwd: area.dir });
    child.once('error', (err) => notify(`${label} could not start: ${err.message}`));
    child.once('exit', (code, signal) => {
      // Exit 1 is a run that worked and found failures; anything else is the run itself failing.
      if (code === 0 || code === 1) notify(`${label} finished: ${readLastLine(log) || 'no output'}`);
      else notify(`${label} failed (${signal ?? `exit code ${code}`}): ${readLastLine(log) || 'no output'} (log: ${log})`);
    });
    return { pid: child.pid, log };
  };

  return {
    async rerun(ref, run, notify, who) {
      const name = displayName(ref);
      await checkStartable((await store.getRun(run.id)) ?? run, `rerun of ${name}`);
      const { pid, log } = start(
        // A rerun runs with what the run recorded, as far as the area still declares it.
        { target: run.target, runname: run.runname, pattern: name, rerunAll: true, params: recordedParams(area, run) },
        `rerun of ${name} in ${run.runname}`,
        notify,
        who,
      );
      return `rerun of ${name} in ${run.target} ${run.runname} started (pid ${pid}); log: ${log}`;
    },

    async startRun(s, notify, who) {
      await checkStartable(await store.findRun(s.target, s.runname), `run of ${s.target}/${s.runname}`);
      const { pid, log } = start(s, `run ${s.target} ${s.runname}`, notify, who);
      return `run ${s.target} ${s.runname} started (pid ${pid}); log: ${log}`;
    },

    async signOff(ref, run, verdict, by = {}) {
      const name = displayName(ref);
      const signed = await approveTests(store, run, area, {
        test: name,
        step: by.step ?? '',
        reject: verdict === 'reject',
        comment: by.comment ?? '',
        user: by.user ?? loginName(ctx.env),
        write: { who: by.who ?? whoAmI(ctx.env) },
        now: ctx.now(),
      });
      const what = signed.length === 1 ? displayName(signed[0]!) : `${signed.length} items of ${name}`;
      return verdict === 'reject' ? `rejected ${what}: it fails` : `approved ${what}: its runner goes on with the next step`;
    },

    async kill(ref, run, who) {
      const now = ctx.now();
      const name = displayName(ref);
      checkRunLock((await store.getRun(run.id)) ?? run, {}, `kill of ${name}`);
      const asked = await requestKill(store, run, {
        pattern: name,
        now,
        write: { who: who ?? whoAmI(ctx.env) },
        liveness: liveness(),
        host: shortHostname(),
      });
      if (asked.length === 0) return `nothing to kill: ${name} is not running or queued in a live run`;
      return `asked the runner to kill ${asked.length === 1 ? name : `${asked.length} tests and items of ${name}`}`;
    },

    async setStateStatus(ref, run, text, who) {
      const name = displayName(ref);
      const { state, status } = parseStateStatus(text, 'set');
      checkRunLock((await store.getRun(run.id)) ?? run, {}, `set of ${name}`);
      const n = await setStateStatus(store, run.id, {
        pattern: name,
        state,
        status,
        now: ctx.now(),
        write: { who: who ?? whoAmI(ctx.env) },
      });
      return `set ${[state, status].filter(Boolean).join('/')} on ${n} row(s) of ${name}`;
    },
  };
}

/** The run's recorded parameters that the area still declares (an undeclared one would refuse the rerun). */
function recordedParams(area: Area, run: RunRecord): Record<string, string> {
  const declared = new Set(area.params.map((p) => p.name));
  return Object.fromEntries(Object.entries(run.params ?? {}).filter(([k]) => declared.has(k)));
}
