/**
 * The fault suite (`npm run faults`; not part of `npm test`): kills, damaged files, hostile names
 * and concurrent writers against the built CLI and real processes, in a bounded time. Prints one
 * table — scenario, tries, lost, doubled, corrupt, crashes — and exits 1 when any is not 0.
 *
 *   npm run faults [-- --rounds 20] [--budget 840] [--only runner,server,...]
 *
 * --rounds: rounds of each kill scenario (default 20); --budget: seconds for the whole suite
 * (default 840: 14 minutes), shared by weight; a scenario out of time stops between tries and the
 * table shows the tries done of those planned. docs/reliability.md says what each row counts.
 */
import os from 'node:os';
import { formatDuration, makeScratch, Tally, type Scenario } from './fault-kit.js';
import { KILL_SCENARIOS } from './kill-scenarios.js';
import { DAMAGE_SCENARIO } from './damage-scenario.js';
import { NAMES_SCENARIO } from './names-scenario.js';
import { WRITERS_SCENARIO } from './writers-scenario.js';

/** The table's rows, in order: one more scenario is one more entry. */
const SCENARIOS: Scenario[] = [...KILL_SCENARIOS, DAMAGE_SCENARIO, NAMES_SCENARIO, WRITERS_SCENARIO];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<number> {
  const rounds = Number(option('rounds', '20'));
  const budgetMs = Number(option('budget', '840')) * 1000;
  const only = option('only', '')
    .split(',')
    .filter((x) => x !== '');
  const chosen = SCENARIOS.filter((s) => only.length === 0 || only.some((o) => s.name.includes(o)));
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isFinite(budgetMs) || budgetMs <= 0 || chosen.length === 0) {
    console.error('faults: usage: npm run faults [-- --rounds N] [--budget SECONDS] [--only WORD,WORD]');
    return 2;
  }
  console.log(
    `== Trellis fault suite  (node ${process.version}, ${os.availableParallelism()} CPUs, ${new Date().toISOString().slice(0, 10)})`,
  );
  console.log(
    `load average before: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}; rounds ${rounds}; budget ${formatDuration(budgetMs)}`,
  );
  const t0 = Date.now();
  let weightLeft = chosen.reduce((s, c) => s + c.weight, 0);
  const rows: Array<{ scenario: Scenario; tally: Tally; ms: number }> = [];
  for (const scenario of chosen) {
    // Each scenario's share of what is left: time one did not use goes to the next.
    const share = ((budgetMs - (Date.now() - t0)) * scenario.weight) / weightLeft;
    weightLeft -= scenario.weight;
    const tally = new Tally(scenario.planned(rounds));
    const scratch = makeScratch(scenario.name.split(/\W+/).filter(Boolean).slice(0, 3).join('-').toLowerCase());
    const started = Date.now();
    console.log(`\n-- ${scenario.name} (up to ${formatDuration(share)})`);
    try {
      await scenario.run(tally, { rounds, deadline: started + share, dir: scratch.dir, log: (l) => console.log(l) });
    } catch (err) {
      tally.add('crashes', 1, `the scenario itself failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      scratch.cleanup();
    }
    rows.push({ scenario, tally, ms: Date.now() - started });
  }
  printTable(rows);
  console.log(
    `\ntotal ${formatDuration(Date.now() - t0)}; load average after: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const bad = rows.some(({ tally: t }) => t.lost + t.doubled + t.corrupt + t.crashes > 0);
  console.log(
    bad
      ? 'FAILED: something was lost, doubled, corrupted or crashed (see the notes above the table)'
      : 'OK: nothing lost, doubled, corrupted or crashed',
  );
  return bad ? 1 : 0;
}

function printTable(rows: ReadonlyArray<{ scenario: Scenario; tally: Tally; ms: number }>): void {
  const header = ['scenario', 'tries', 'lost', 'doubled', 'corrupt', 'crashes', 'time'];
  const cells = rows.map(({ scenario, tally: t, ms }) => [
    scenario.name,
    t.tries === t.planned ? String(t.tries) : `${t.tries}/${t.planned}`,
    String(t.lost),
    String(t.doubled),
    String(t.corrupt),
    String(t.crashes),
    formatDuration(ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ')} |`;
  const notes = rows.flatMap(({ scenario, tally }) => tally.notes.map((n) => `${scenario.name}: ${n}`));
  if (notes.length > 0) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  console.log(`\n${line(header)}\n| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`);
  for (const c of cells) console.log(line(c));
}

process.exitCode = await main();
