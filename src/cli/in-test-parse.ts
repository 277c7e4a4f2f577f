/**
 * `trellis step|test-status|set-value …` as a running test sends them through its channel: read by
 * the CLI's own parser and declarations (so they take the same options and say the same errors as
 * on the command line), then handed to the runner as in-test actions.
 */
import type { InTestRequest } from '../runner/in-test-requests.js';
import { TrellisError } from '../util/errors.js';
import { parseArgs } from './parser.js';
import { quickParse } from './quick-parse.js';

/** Reads a helper's command line into the runner's request. */
export function parseInTestHelper(argv: string[]): InTestRequest {
  // Plain lines without yargs, as main.ts reads them (yargs costs milliseconds a call).
  const parsed = quickParse(argv) ?? parseArgs(argv);
  if (parsed.kind === 'output') return { actions: [{ kind: 'say', text: parsed.text }], force: false };
  switch (parsed.command) {
    case 'step': {
      const o = parsed.options;
      return {
        actions: [{ kind: 'step', name: o.name, phase: o.state, ...(o.status !== undefined ? { status: o.status } : {}) }],
        force: o.force,
      };
    }
    case 'test-status': {
      const o = parsed.options;
      return {
        actions: [
          {
            kind: 'test-status',
            ...(o.state !== undefined ? { state: o.state } : {}),
            ...(o.status !== undefined ? { status: o.status } : {}),
            ...(o.message !== undefined ? { message: o.message } : {}),
          },
        ],
        force: o.force,
      };
    }
    case 'set-value': {
      const o = parsed.options;
      const value = {
        name: o.name,
        value: o.value,
        ...(o.expected !== undefined ? { expected: o.expected } : {}),
        ...(o.tol !== undefined ? { tol: o.tol } : {}),
        ...(o.units !== undefined ? { units: o.units } : {}),
      };
      return { actions: [{ kind: 'values', values: [value], print: true }], force: o.force };
    }
    default:
      throw new TrellisError(
        'USAGE',
        `trellis ${parsed.command} is not one of the in-test commands`,
        'use trellis step, test-status or set-value',
      );
  }
}
