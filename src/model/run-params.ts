/** How a run's parameters read in one line, wherever they are shown (show, TAP, the events log). */

/** `VERSION=1.4.2 NOTE="two words" EMPTY=""`: values JSON-quoted when they hold a blank, a quote or nothing. */
export function describeParams(params: Readonly<Record<string, string>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${/^[^\s"'=]+$/.test(v) ? v : JSON.stringify(v)}`)
    .join(' ');
}
