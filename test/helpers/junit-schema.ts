/**
 * Validating JUnit XML the way the project's docs say: `xmllint --noout --schema junit-10.xsd`.
 * The schema is ../shared/schemas/junit-10.xsd when the shared folder is beside the clone, else
 * the copy in test/fixtures/schemas. xmllint must be installed (CI installs libxml2-utils); without
 * it these checks fail rather than being skipped.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cli.js';

const SHARED_XSD = path.resolve(repoRoot, '../shared/schemas/junit-10.xsd');
export const JUNIT_XSD = fs.existsSync(SHARED_XSD) ? SHARED_XSD : path.join(repoRoot, 'test/fixtures/schemas/junit-10.xsd');

/** Runs xmllint on `file`: ok when it is well-formed and valid against junit-10.xsd. */
export function validateJunit(file: string): { ok: boolean; output: string } {
  const r = spawnSync('xmllint', ['--noout', '--schema', JUNIT_XSD, file], { encoding: 'utf8' });
  if (r.error) return { ok: false, output: `xmllint could not run (${r.error.message}); install libxml2-utils` };
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

/** xmllint's answer to an XPath 1.0 expression on `file` (a count, a string). */
export function xpath(file: string, expr: string): string {
  const r = spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`xmllint --xpath '${expr}' ${file} failed: ${r.stderr}`);
  // xmllint ends its answer with a newline of its own.
  return r.stdout.endsWith('\n') ? r.stdout.slice(0, -1) : r.stdout;
}

/** The values of the attributes an XPath selects (`//testcase/@name`), in document order, unescaped. */
export function attrValues(file: string, expr: string): string[] {
  // xmllint prints each attribute as ` name="value"` on a line of its own, escaped as in XML.
  const text = spawnSync('xmllint', ['--xpath', expr, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout;
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => unescapeXml(l.replace(/^\s*[\w.:-]+="/, '').replace(/"$/, '')));
}

function unescapeXml(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|quot|amp|lt|gt|apos);/gi, (_m, e: string) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    return ({ quot: '"', amp: '&', lt: '<', gt: '>', apos: "'" } as Record<string, string>)[e.toLowerCase()]!;
  });
}
