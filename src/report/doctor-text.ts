/** `trellis doctor` for people (one line per finding, the fix or the repair under it) and scripts. */
import { isOpenProblem, type Finding } from '../model/doctor.js';
import { termLine } from '../util/terminal-text.js';

const LEVEL: Record<Finding['level'], string> = { ok: 'ok', note: 'note', problem: 'PROBLEM' };

/** The findings, then a summary line. `all` shows the ok lines too. */
export function formatDoctor(runArea: string, findings: readonly Finding[], opts: { all: boolean; repair: boolean }): string {
  const width = Math.max(...findings.map((f) => f.part.length), 4);
  const lines = [termLine(`Run area ${runArea}`)];
  for (const f of findings) {
    if (f.level === 'ok' && !opts.all) continue;
    lines.push(termLine(`${f.part.padEnd(width)}  ${(f.repaired ? 'REPAIRED' : LEVEL[f.level]).padEnd(8)}  ${f.what}`));
    const pad = ' '.repeat(width + 12);
    if (f.repaired) lines.push(termLine(`${pad}repaired: ${f.repaired}`));
    else if (f.fix) lines.push(termLine(`${pad}${f.level === 'problem' ? 'fix' : 'hint'}: ${f.fix}`));
  }
  lines.push(summarize(findings, opts.repair));
  return `${lines.join('\n')}\n`;
}

function summarize(findings: readonly Finding[], repair: boolean): string {
  const problems = findings.filter((f) => f.level === 'problem');
  const open = problems.filter(isOpenProblem).length;
  const repaired = problems.length - open;
  const notes = findings.filter((f) => f.level === 'note').length;
  const checked = findings.filter((f) => f.level === 'ok').length;
  if (problems.length === 0) return `Healthy: nothing needs attention (${checked} checks fine, ${notes} notes).`;
  const parts = [`${problems.length} problem${problems.length === 1 ? '' : 's'}`];
  if (repaired > 0) parts.push(`${repaired} repaired`);
  if (open > 0) parts.push(`${open} still open`);
  const advice = open === 0 ? '' : repair ? ' (see each fix above)' : '; `trellis doctor --repair` fixes what it safely can';
  return `${parts.join(', ')}; ${notes} notes${advice}.`;
}

/** `trellis doctor --json`. Fields are only ever added. */
export function doctorJson(runArea: string, findings: readonly Finding[], repair: boolean) {
  return {
    runArea,
    repair,
    healthy: !findings.some(isOpenProblem),
    problems: findings.filter((f) => f.level === 'problem').length,
    open: findings.filter(isOpenProblem).length,
    findings: findings.map((f) => ({ part: f.part, level: f.level, what: f.what, fix: f.fix ?? null, repaired: f.repaired ?? null })),
  };
}
