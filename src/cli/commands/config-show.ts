/** `trellis config show [--section S [--var V]] [--file runconfigs -t T] [--json]`. */
import { readRunconfigs, resolveTarget } from '../../config/area.js';
import type { ConfigFile } from '../../config/types.js';
import { TrellisError } from '../../util/errors.js';
import { openArea } from '../area-access.js';
import type { CommandContext } from '../context.js';
import type { ConfigShowOptions } from '../specs/area.js';
import { termJson, termLine, termText } from '../../util/terminal-text.js';

export async function execute(opts: ConfigShowOptions, ctx: CommandContext): Promise<number> {
  const area = openArea(opts, ctx);
  let file: ConfigFile = area.config;
  if (opts.file === 'runconfigs') {
    file = opts.target === undefined ? area.runconfigs : readRunconfigs(area, resolveTarget(area, opts.target), ctx.env);
  }
  const { section, var: key } = opts;
  if (key !== undefined && section === undefined) {
    throw new TrellisError('USAGE', '--var needs --section', 'e.g. trellis config show --section setup --var runarea');
  }
  if (section !== undefined && !file.hasSection(section)) {
    throw new TrellisError(
      'NO_TEST',
      `${file.file} has no [${section}] section`,
      `its sections: ${file.sectionNames().join(', ') || '(none)'}`,
    );
  }
  if (section !== undefined && key !== undefined) {
    const v = file.get(section, key);
    if (!v) throw new TrellisError('NO_TEST', `${file.file}: no ${key} in [${section}]`, 'see every value with `trellis config show`');
    ctx.stdout.write(opts.json ? `${termJson(v.text)}\n` : `${termText(v.text)}\n`);
    return 0;
  }
  const sections = section !== undefined ? [section] : file.sectionNames();
  if (opts.json) {
    const obj: Record<string, Record<string, string>> = {};
    for (const s of sections) obj[s] = Object.fromEntries(file.entries(s).map(([k, v]) => [k, v.text]));
    ctx.stdout.write(`${termJson(obj)}\n`);
    return 0;
  }
  const out: string[] = [`# ${file.file}`];
  for (const s of sections) {
    out.push(termLine(`[${s}]`));
    for (const [k, v] of file.entries(s)) {
      const text = v.lazyCommand !== undefined ? `[system ${v.lazyCommand}]` : v.text;
      out.push(termText(`${k} ${text.replace(/\n/g, '\n  ')}`.trimEnd()));
    }
    out.push('');
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
