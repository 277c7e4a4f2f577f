/**
 * Megatest's test data (`-load-test-data` on stdin, `-set-values`), read as db:csv->test-data reads
 * it: comma-separated `category, variable, value, expected, tol, units, comment, status, type`,
 * blanks around fields stripped, double quotes for a field holding commas. A value is judged only
 * when its value and expected value are numbers: within `tol` (|value - expected| <= tol) or by
 * the comparator `>` `<` `>=` `<=` (value OP expected); a status given in the 8th column is taken
 * as it is. Anything else is recorded as information (n/a).
 */
import { parse } from 'csv-parse/sync';
import { isValueComparator, judgeValue, parseDecimal } from '../model/value-check.js';
import { TrellisError } from '../util/errors.js';
import { valueName, type ValueSpec } from './in-test-requests.js';

/** Most lines one `-load-test-data` may carry. */
const MAX_LINES = 100_000;

/** The values of a `-load-test-data` text; a line that cannot be one is a USAGE error naming it. */
export function parseTestData(csv: string): ValueSpec[] {
  let rows: string[][];
  try {
    rows = parse(csv, { trim: true, relax_column_count: true, skip_empty_lines: true, relax_quotes: true }) as string[][];
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new TrellisError(
      'USAGE',
      `-load-test-data: line ${line ?? '?'} is not comma-separated values (${(err as Error).message.replace(/^.*?: /, '')})`,
      'write category,variable,value,expected,tol,units,comment; quote a field that holds a comma with "…"',
    );
  }
  if (rows.length > MAX_LINES)
    throw new TrellisError('USAGE', `-load-test-data: ${rows.length} lines, more than ${MAX_LINES}`, 'load them in parts');
  return rows.map((row, i) => valueOfRow(row, i + 1));
}

function valueOfRow(row: readonly string[], line: number): ValueSpec {
  const [category = '', variable = '', value = '', expected = '', tol = '', units = '', comment = '', status = ''] = row;
  if (category === '' && variable === '') {
    throw new TrellisError(
      'USAGE',
      `-load-test-data: line ${line} has neither a category nor a variable`,
      'write category,variable,value,expected,tol,…',
    );
  }
  const spec: ValueSpec = { name: valueName(category, variable), value };
  if (expected !== '') spec.expected = expected;
  if (tol !== '') spec.tol = tol;
  if (units !== '') spec.units = units;
  if (comment !== '') spec.comment = comment;
  if (status !== '' && status.toLowerCase() !== 'n/a') spec.status = status.toUpperCase();
  // Megatest stores "ERROR: bad tol comparator" as the status; Trellis says so to the test instead.
  if (spec.status === undefined && judgedByNumbers(spec) && tol !== '' && !isValueComparator(tol) && parseDecimal(tol) === undefined) {
    throw new TrellisError(
      'USAGE',
      `-load-test-data: line ${line} (${spec.name}): tolerance '${tol}' is not a number or one of > < >= <=`,
      'write a number (|value - expected| <= tol) or a comparator (value > expected)',
    );
  }
  return spec;
}

function judgedByNumbers(v: ValueSpec): boolean {
  return v.expected !== undefined && parseDecimal(v.value) !== undefined && parseDecimal(v.expected) !== undefined;
}

/** The status Megatest gives a value: the one given, else judged when both sides are numbers, else n/a. */
export function judgeMegatestValue(v: ValueSpec): string {
  if (v.status !== undefined) return v.status;
  if (!judgedByNumbers(v)) return 'n/a';
  return judgeValue(v.value, v.expected, v.tol ?? '').status;
}
