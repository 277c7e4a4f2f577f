/**
 * Every command's declaration, by the name main.ts loads its module under. The parser, the help,
 * shell completion and each command's typed options all come from here.
 */
import type { OptionsOf } from '../command-spec.js';
import { configShowSpec, dashboardSpec, doctorSpec, initSpec, serverSpec } from './area.js';
import { completeSpec, completionSpec } from './completion.js';
import { diffSpec, logSpec } from './diff.js';
import { checkSpec, historySpec, lastSuccessSpec, recordSpec, wrapSpec } from './history.js';
import { setValueSpec, stepSpec, testStatusSpec } from './in-test.js';
import { listRunsSpec, listTargetsSpec, listTestsSpec } from './list.js';
import { reportSpec } from './report.js';
import { approveSpec, killSpec, lockSpec, removeSpec, setStateStatusSpec, unlockSpec } from './run-admin.js';
import { execSpec, runSpec } from './run.js';
import { resourcesSpec } from './resources.js';
import { closeSpec, resultSpec, runOpenSpec } from './results.js';
import { showSpec } from './show.js';
import { idSpec } from './identity.js';
import { webSpec } from './web.js';
import { agentSpec, hostsSpec } from './agents.js';

export const SPECS = {
  run: runSpec,
  'list-runs': listRunsSpec,
  'list-tests': listTestsSpec,
  'list-targets': listTargetsSpec,
  show: showSpec,
  'set-state-status': setStateStatusSpec,
  remove: removeSpec,
  lock: lockSpec,
  unlock: unlockSpec,
  kill: killSpec,
  approve: approveSpec,
  'run-open': runOpenSpec,
  result: resultSpec,
  close: closeSpec,
  id: idSpec,
  init: initSpec,
  'config-show': configShowSpec,
  step: stepSpec,
  'test-status': testStatusSpec,
  'set-value': setValueSpec,
  history: historySpec,
  'last-success': lastSuccessSpec,
  check: checkSpec,
  wrap: wrapSpec,
  record: recordSpec,
  server: serverSpec,
  dashboard: dashboardSpec,
  web: webSpec,
  report: reportSpec,
  diff: diffSpec,
  log: logSpec,
  exec: execSpec,
  doctor: doctorSpec,
  resources: resourcesSpec,
  agent: agentSpec,
  hosts: hostsSpec,
  completion: completionSpec,
  __complete: completeSpec,
} as const;

export type CommandName = keyof typeof SPECS;

/** The typed options object the command `K` receives. */
export type OptionsFor<K extends CommandName> = OptionsOf<(typeof SPECS)[K]>;

/** What the first word of a command of several words says in the help (`list`, `config`). */
export const GROUPS: Readonly<Record<string, string>> = {
  list: 'List runs, tests or targets',
  config: 'Show the area configuration',
};
