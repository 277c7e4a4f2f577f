/** `trellis config show [--section S [--var V]] [--file runconfigs -t T] [--json]`. */
import { readRunconfigs, resolveTarget } from '../../config/area.js';
import type { ConfigFile } from '../../config/types.js';
import { TrellisError } from '../../util/errors.js';
import { openArea } from '../area-access.js';
import type { CommandContext } from '../context.js';

export async function execute(args: Record<string, unknown>, ctx: CommandContext): Promise<number> {
  const area = openArea(args, ctx);
  let file: ConfigFile = area.config;
  if (args['file'] === 'runconfigs') {
    file = typeof args['target'] === 'string' ? readRunconfigs(area, resolveTarget(area, args['target']), ctx.env) : area.runconfigs;
  }
  const section = typeof args['section'] === 'string' ? args['section'] : undefined;
  const key = typeof args['var'] === 'string' ? args['var'] : undefined;
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
    ctx.stdout.write(args['json'] ? `${JSON.stringify(v.text)}\n` : `${v.text}\n`);
    return 0;
  }
  const sections = section !== undefined ? [section] : file.sectionNames();
  if (args['json']) {
    const obj: Record<string, Record<string, string>> = {};
    for (const s of sections) obj[s] = Object.fromEntries(file.entries(s).map(([k, v]) => [k, v.text]));
    ctx.stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
    return 0;
  }
  const out: string[] = [`# ${file.file}`];
  for (const s of sections) {
    out.push(`[${s}]`);
    for (const [k, v] of file.entries(s)) {
      const text = v.lazyCommand !== undefined ? `[system ${v.lazyCommand}]` : v.text;
      out.push(`${k} ${text.replace(/\n/g, '\n  ')}`.trimEnd());
    }
    out.push('');
  }
  ctx.stdout.write(`${out.join('\n')}\n`);
  return 0;
}
