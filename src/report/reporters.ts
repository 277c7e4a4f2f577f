/**
 * The report formats by name (`trellis report <name>`, `trellis run --junit`). A reporter turns a
 * run's recorded results, and the log excerpts it asked for, into text; it does no I/O. The
 * command gathers the data through the store and reads the logs.
 */
import type { RunRecord, TestDetail } from '../model/records.js';
import type { LogExcerpt } from '../util/log-excerpt.js';
import { formatJsonReport } from './json-report.js';
import { junitLogsWanted, formatJunit, JUNIT_LOG_CAPS } from './junit.js';
import { formatTap } from './tap.js';

/** Which cases carry their steps' output (JUnit `system-out`). */
export const LOG_MODES = ['failed', 'all', 'none'] as const;
export type LogMode = (typeof LOG_MODES)[number];

/** What a reporter is given. */
export interface ReportInput {
  run: RunRecord;
  /** test and item rows in list order: each test, then its items */
  tests: readonly TestDetail[];
  /** tests that have items in the run although none of them is in `tests` (a -p that chose none) */
  itemParents?: ReadonlySet<string>;
  /** excerpts of the step logs the reporter asked for, by log file path */
  logs: ReadonlyMap<string, LogExcerpt>;
  /** when the report is made (seconds since the epoch) */
  now: number;
  logMode: LogMode;
}

/** One format. */
export interface Reporter {
  /** the step log files whose excerpts the report shows, and how much of each to read */
  logsWanted(input: Omit<ReportInput, 'logs'>): { files: string[]; headBytes: number; tailBytes: number };
  format(input: ReportInput): string;
}

const NO_LOGS = () => ({ files: [], headBytes: 0, tailBytes: 0 });

export const REPORTERS = {
  junit: {
    logsWanted: (input) => ({ files: junitLogsWanted(input), ...JUNIT_LOG_CAPS }),
    format: formatJunit,
  },
  tap: { logsWanted: NO_LOGS, format: formatTap },
  json: { logsWanted: NO_LOGS, format: formatJsonReport },
} as const satisfies Record<string, Reporter>;

export type ReportFormat = keyof typeof REPORTERS;
export const REPORT_FORMATS = Object.keys(REPORTERS) as ReportFormat[];
