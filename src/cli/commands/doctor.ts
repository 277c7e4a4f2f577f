/** `trellis doctor [--repair] [--json] [--all]`: check a run area, and repair what is safe. */
import path from 'node:path';
import { runDoctor } from '../../doctor/doctor.js';
import { isOpenProblem } from '../../model/doctor.js';
import { doctorJson, formatDoctor } from '../../report/doctor-text.js';
import { TrellisError } from '../../util/errors.js';
import { shortHostname } from '../../util/host.js';
import { termJson } from '../../util/terminal-text.js';
import { openArea } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { DoctorOptions } from '../specs/area.js';

export async function execute(opts: DoctorOptions, ctx: CommandContext): Promise<number> {
  let runArea: string;
  let fields: readonly string[] | undefined;
  try {
    const area = openArea(opts, ctx);
    runArea = area.runArea;
    fields = area.fields;
  } catch (err) {
    // A run area can be looked at without its test area (a cron host, an admin): --runarea alone.
    if (!(err instanceof TrellisError && err.code === 'NO_AREA' && opts.runarea !== undefined)) throw err;
    runArea = path.resolve(ctx.cwd, opts.runarea);
  }
  const repair = opts.repair;
  const findings = await runDoctor({ runArea, repair, host: shortHostname(), now: ctx.now, debug: (m) => ctx.log.debug(m), fields });
  if (opts.json) ctx.stdout.write(`${termJson(doctorJson(runArea, findings, repair))}\n`);
  else ctx.stdout.write(formatDoctor(runArea, findings, { all: opts.all, repair }));
  return findings.some(isOpenProblem) ? 1 : 0;
}
