/**
 * Log rules, built in: Megatest's logpro rules (and Trellis' simpler [logrules] form) applied to a
 * step's log in one streaming pass, giving the step's status, a per-rule summary and logpro's
 * `.dat` file — no external logpro binary.
 *
 * Where it sits: beside src/model. It imports only src/model and src/util; src/config uses it to
 * read a testconfig's [logpro] and [logrules] entries (and STEP.logpro files) with file:line
 * errors, and the runner calls judgeLogFile after a step. See docs/log-rules.md.
 *
 * The runner's part, per step that has rules (TestDefinition.logRules.get(step.name)):
 *
 *     const j = await judgeLogFile(logfile, rules, { now, signal });
 *     writeDatFile(logfile, j);           // STEP.dat beside STEP.log
 *     // step status: j.status (logpro's exit code j.exitCode), comment: j.reason; j.rules to store
 */
export { buildRuleSet, BODY_SECTION, COMPARATORS, RULE_KINDS } from './rules.js';
export type { Comparator, LinePattern, Rule, RuleKind, RulePiece, RuleSet, SectionDef, Trigger, ValueCheck, Where } from './rules.js';
export { parseLogpro } from './logpro.js';
export type { TextSource } from './sexp.js';
export { parseNativeRules, type NativeLine } from './native.js';
export { FIRST_LINES, LINE_TEXT_MAX, LogMatcher } from './matcher.js';
export type { LineHit, LogJudgement, RuleResult, TriggerResult } from './matcher.js';
export { judgeLogFile, judgeText, type ScanOptions } from './scan.js';
export { datFileFor, formatDat, writeDatFile } from './dat.js';
export { ruleValues, summarizeRules, type RuleValue } from './summary.js';
export { reviveRuleSet, serializeRuleSet, type RuleSetJson } from './json.js';
