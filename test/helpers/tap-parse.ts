/**
 * TAP output read back with tap's own parser (tap-parser, TAP 14): every test point at every
 * subtest level, the final results, and whatever the parser could not take as TAP.
 */
import { Parser, type FinalResults, type Result } from 'tap-parser';

export interface ParsedTap {
  results: FinalResults;
  /** every test point, `level` 0 at the top, 1 inside a subtest, … */
  points: Array<{ level: number; ok: boolean; id: number; name: string; skip: boolean | string; diag: Record<string, unknown> | null }>;
  /** lines that are not TAP (the parser's `extra` events) */
  extra: string[];
  bailouts: string[];
}

/** Parses `text` strictly (non-TAP lines are failures) and resolves when the stream is complete. */
export function parseTap(text: string): Promise<ParsedTap> {
  return new Promise((resolve) => {
    const points: ParsedTap['points'] = [];
    const extra: string[] = [];
    const bailouts: string[] = [];
    const watch = (p: Parser, level: number) => {
      p.on('assert', (r: Result) =>
        points.push({ level, ok: r.ok, id: r.id, name: r.name, skip: r.skip, diag: r.diag as Record<string, unknown> | null }),
      );
      p.on('extra', (line: string) => extra.push(line));
      p.on('bailout', (reason: string) => bailouts.push(reason));
      p.on('child', (c: Parser) => watch(c, level + 1));
    };
    const parser = new Parser({ strict: true }, (results) => resolve({ results, points, extra, bailouts }));
    watch(parser, 0);
    parser.end(text);
  });
}
