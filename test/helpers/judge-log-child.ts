/**
 * Judges one log in a process of its own, for tests that bound the streaming pass's memory:
 * `node judge-log-child.js RULES.logpro LOG` prints the judgement as JSON (rules without their
 * compiled patterns). Run with the max-rss probe (`--import`) to learn its peak RSS.
 */
import fs from 'node:fs';
import { buildRuleSet, judgeLogFile, parseLogpro } from '../../src/logrules/index.js';

const [rulesFile, logFile] = process.argv.slice(2);
const rules = buildRuleSet([parseLogpro(fs.readFileSync(rulesFile!, 'utf8'), { file: rulesFile!, line: 1 })]);
const j = await judgeLogFile(logFile!, rules, { now: Date.now() / 1000 });
process.stdout.write(
  JSON.stringify({
    status: j.status,
    exitCode: j.exitCode,
    lines: j.lines,
    bytes: j.bytes,
    rules: j.rules.map((r) => ({
      description: r.rule.description,
      count: r.count,
      status: r.status,
      lines: r.lines,
      measured: r.measured,
    })),
  }),
);
