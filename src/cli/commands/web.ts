/**
 * `trellis web [--port P] [--bind ADDR] [--runarea DIR]`: the runs matrix in a browser, for as long as it runs.
 * A `dboard` client of the run area's servers (it survives their restarts, like the dashboard);
 * this file only wires the area, the store and the actions to src/web.
 */
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { runAreaPaths } from '../../config/paths.js';
import { isoTime } from '../../report/table.js';
import { TrellisError } from '../../util/errors.js';
import { makeDirs } from '../../util/files.js';
import { loginName, shortHostname, whoAmI } from '../../util/host.js';
import { runFormOf } from '../../web/run-form.js';
import { isLoopback, startWeb, type WebServer } from '../../web/web-server.js';
import { isDirect, openArea, openStore } from '../area-access.js';
import type { CommandContext } from '../context.js';
import { feedOf } from '../feed-access.js';
import type { WebOptions } from '../specs/web.js';

export const handlesSignals = true;

export async function execute(opts: WebOptions, ctx: CommandContext): Promise<number> {
  const port = opts.port ?? 0;
  const bind = opts.bind?.trim() || '127.0.0.1';
  const area = openArea(opts, ctx);
  const logsDir = runAreaPaths(area.runArea).logsDir;
  let relay: (message: string | undefined) => void = () => {};
  const store = await openStore(area, opts, ctx, 'dboard', {
    onConnection: (e) => relay(e.state === 'lost' ? e.message : undefined),
  });
  makeDirs(logsDir);
  const auditFile = path.join(logsDir, `web-${shortHostname()}-${ctx.pid}.log`);
  const audit = (line: string) => appendFileSync(auditFile, `${isoTime(ctx.now())} ${line.replace(/\n/g, ' | ')}\n`, { mode: 0o640 });
  const { createTestActions } = await import('../test-actions.js');
  let web: WebServer;
  try {
    web = await startWeb({
      feed: feedOf(store),
      store,
      actions: createTestActions({ store, area, ctx, direct: isDirect(opts, ctx) }),
      runArea: area.runArea,
      // Read again for every form: runconfigs.config changes while the web view runs.
      runForm: () => runFormOf(openArea(opts, ctx)),
      reapRunning: async (runs) => {
        for (const run of runs) await store.reapDead(run.id, { now: ctx.now(), deadtime: area.setup.deadtime });
      },
      port,
      bind,
      who: `${whoAmI(ctx.env)} via web`,
      // What `trellis approve` from this shell would be checked as.
      user: loginName(ctx.env),
      audit,
      now: ctx.now,
      listHosts: () => store.listHosts({ now: ctx.now(), deadtime: area.setup.deadtime }),
    });
  } catch (err) {
    await store.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EADDRNOTAVAIL' || e.code === 'EACCES') {
      throw new TrellisError(
        'USAGE',
        `--bind ${bind} --port ${port}: cannot listen there (${e.code})`,
        'choose another --port (0 takes any free one) or an address of this host',
      );
    }
    throw err;
  }
  relay = (m) => web.hub.setTrouble(m);
  audit(`serving ${area.runArea} at ${web.url} (pid ${ctx.pid})`);
  const out = ctx.stdout;
  out.write(`trellis web: serving ${area.runArea} at ${web.url}/\n`);
  if (!isLoopback(bind)) {
    out.write(`trellis web: listening on ${bind}: pages travel unencrypted; across untrusted networks use an ssh tunnel or a TLS proxy\n`);
  }
  out.write(`Log in (the link works once): ${web.newLoginUrl()}\n`);
  out.write(`Actions are logged in ${auditFile}\n`);
  const tty = ctx.stdin.isTTY === true;
  if (tty) out.write('Press Enter for another login link; Ctrl-C stops.\n');
  const onLine = () => out.write(`Log in (the link works once): ${web.newLoginUrl()}\n`);
  if (tty) ctx.stdin.on('data', onLine);
  try {
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    if (tty) {
      ctx.stdin.off('data', onLine);
      (ctx.stdin as NodeJS.ReadStream).pause?.();
    }
    audit('stopped');
    await web.close();
    await store.close();
  }
  return 0;
}
