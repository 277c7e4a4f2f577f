/** The frame of every page: head, the bar with the links and who is logged in, banner, notices. */
import { html, raw, type Html } from '../html.js';

export type Section = 'matrix' | 'start' | 'diff' | 'hosts' | 'invite' | 'other';

export interface Shell {
  title: string;
  styleUrl: string;
  scriptUrl: string;
  /** logged in as; undefined on the login page */
  who?: string;
  /** CSRF token for the log-out form */
  csrf?: string;
  section?: Section;
  /** the run area's server cannot be reached (the banner; the script keeps it current) */
  trouble?: string;
  notices?: readonly string[];
  /** `<meta http-equiv=refresh>` for readers without the script (a running test's page) */
  refreshSeconds?: number;
}

const LINKS: readonly [Section, string, string][] = [
  ['matrix', '/', 'Runs'],
  ['start', '/start', 'Start a run'],
  ['diff', '/diff', 'Compare runs'],
  ['hosts', '/hosts', 'Hosts'],
  ['invite', '/invite', 'Invite'],
];

/** The whole document around `main`. */
export function renderPage(shell: Shell, main: Html): string {
  const nav =
    shell.who === undefined
      ? ''
      : html`<nav aria-label="sections">${LINKS.map(
          ([section, href, label]) => html`<a href="${href}"${raw(section === shell.section ? ' aria-current="page"' : '')}>${label}</a>`,
        )}</nav>
  <div class="who"><span>${shell.who}</span><form method="post" action="/logout"><input type="hidden" name="_csrf" value="${shell.csrf ?? ''}"><button type="submit">Log out</button></form></div>`;
  const refresh =
    shell.refreshSeconds === undefined ? '' : html`<noscript><meta http-equiv="refresh" content="${shell.refreshSeconds}"></noscript>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${shell.title} - trellis</title>
<link rel="stylesheet" href="${shell.styleUrl}">
<script type="module" src="${shell.scriptUrl}"></script>
${refresh}
</head>
<body>
<a class="skiplink" href="#main">Skip to the content</a>
<header class="top"><span class="brand">trellis web</span>${nav}</header>
<div id="banner" role="alert"${raw(shell.trouble ? ' class="on"' : '')}>${shell.trouble ? `Lost the run area's server: ${shell.trouble}; reconnecting...` : ''}</div>
<div id="notices" role="status" aria-live="polite">${(shell.notices ?? []).map((n) => html`<p>${n}</p>`)}</div>
<main id="main" tabindex="-1">
${main}
</main>
</body>
</html>
`.text;
}
