/**
 * The web view's one style sheet, served from memory under a name that carries its hash (so it can
 * be cached for good). Colours: every cell's word keeps a contrast of at least 4.5:1 against its
 * background (WCAG AA), and the word is there without the colour.
 */
export const STYLE_CSS = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --line: #c8c8c8; --head: #f2f2f2; --focus: #0b57d0; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
a { color: #0b4fa8; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, td:focus-visible, th:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }
.skiplink { position: absolute; left: -999px; top: 0; background: #fff; padding: 4px 8px; z-index: 10; }
.skiplink:focus { left: 8px; }
header.top { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; padding: 6px 12px; background: #263238; color: #fff; }
header.top a { color: #fff; }
header.top .brand { font-weight: 700; margin-right: 8px; }
header.top nav { display: flex; gap: 12px; flex-wrap: wrap; }
header.top nav a[aria-current="page"] { font-weight: 700; text-decoration: underline; }
header.top .who { margin-left: auto; display: flex; gap: 8px; align-items: center; }
header.top form { margin: 0; }
header.top button { font: inherit; }
main { padding: 8px 12px 24px; }
h1 { font-size: 18px; margin: 8px 0; overflow-wrap: anywhere; }
h1 .note { font-size: 13px; font-weight: 400; }
h2 { font-size: 15px; margin: 16px 0 6px; }
#banner { display: none; padding: 6px 12px; background: #b71c1c; color: #fff; font-weight: 700; }
#banner.on { display: block; }
#notices:empty { display: none; }
#notices { margin: 6px 12px 0; padding: 6px 10px; border: 1px solid #0b4fa8; background: #e8f0fe; }
#notices p { margin: 2px 0; }
.error { border: 1px solid #b71c1c; background: #fdecea; padding: 6px 10px; margin: 8px 0; }
.note { color: var(--muted); }
form.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: flex-end; margin: 4px 0 8px; }
form.filters label, form.stack label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
form.filters input[type=text] { width: 12em; }
form.stack { display: grid; gap: 10px; max-width: 36em; }
input, select, button { font: inherit; padding: 3px 6px; }
button, .button { border: 1px solid #37474f; background: #eceff1; color: #1a1a1a; border-radius: 3px; cursor: pointer; text-decoration: none; padding: 3px 10px; display: inline-block; }
button.danger { background: #b71c1c; color: #fff; border-color: #7f0000; }
button.primary { background: #0b4fa8; color: #fff; border-color: #073a7a; }
.summary { margin: 4px 0; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 10px; margin: 4px 0 8px; padding: 0; list-style: none; font-size: 12px; }
.legend li span { display: inline-block; min-width: 4.2em; padding: 0 4px; text-align: center; }
.paging { display: flex; gap: 12px; margin: 4px 0; }
.wrap { overflow: auto; max-height: calc(100vh - 150px); border: 1px solid var(--line); }
table.matrix { border-collapse: separate; border-spacing: 0; table-layout: fixed; font: 12px/1.5 ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
table.matrix caption { text-align: left; font: 12px/1.4 system-ui, sans-serif; color: var(--muted); padding: 2px 4px; }
table.matrix col.rowhead { width: 18em; }
table.matrix col.run { width: 7.6em; }
table.matrix th, table.matrix td { border-right: 1px solid #fff; border-bottom: 1px solid #fff; padding: 0 4px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
table.matrix thead th { position: sticky; top: 0; z-index: 2; background: var(--head); vertical-align: bottom; text-align: left; font-weight: 400; border-bottom: 1px solid var(--line); }
table.matrix thead th a { display: block; overflow: hidden; text-overflow: ellipsis; }
table.matrix thead th .rn { font-weight: 700; }
table.matrix thead th span { display: block; }
table.matrix tbody th { position: sticky; left: 0; z-index: 1; background: #fff; text-align: left; font-weight: 400; border-right: 1px solid var(--line); }
table.matrix thead th.rowhead { left: 0; z-index: 3; }
table.matrix tr.t > th { font-weight: 700; }
table.matrix tr.i > th { padding-left: 1.8em; }
table.matrix td { cursor: pointer; text-align: center; }
table.matrix tbody tr:hover > th { background: #eef3fb; }
table.matrix button.fold { font: inherit; padding: 0 3px; margin-right: 3px; border: 1px solid #90a4ae; background: #fff; min-width: 1.6em; line-height: 1.2; }
table.matrix .n { color: var(--muted); font-weight: 400; }
.pass { background: #1b5e20; color: #fff; }
.fail { background: #b71c1c; color: #fff; }
.warn { background: #ffd54f; color: #1a1a1a; }
.waived { background: #80deea; color: #1a1a1a; }
.skip { color: #00575c; background: #e0f2f1; }
.running { background: #1565c0; color: #fff; }
.launched { color: #0d47a1; background: #e3f2fd; }
.killed { background: #6a1b9a; color: #fff; }
.idle { color: #4a4a4a; background: #fafafa; }
.never { color: #6a1b9a; background: #f3e5f5; }
.other { color: #5d4037; background: #fff3e0; }
td.pass, td.fail, td.running, td.killed { font-weight: 700; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; word-break: break-all; }
table.list { border-collapse: collapse; margin: 4px 0; }
table.list th, table.list td { border: 1px solid var(--line); padding: 2px 8px; text-align: left; vertical-align: top; }
table.list th { background: var(--head); }
ul.plain { margin: 0; padding: 0; list-style: none; }
.host-busy { font-weight: 700; }
.host-draining { font-style: italic; }
.host-offline { color: var(--muted); }
table.list td.word { text-align: center; font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
pre.log { background: #111; color: #eee; padding: 8px; overflow: auto; max-height: 60vh; font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; white-space: pre-wrap; word-break: break-all; }
.actions { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-end; margin: 8px 0; }
.actions form { display: flex; gap: 6px; align-items: flex-end; margin: 0; }
.actions label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.confirm { border: 2px solid #37474f; padding: 10px 14px; max-width: 44em; }
.confirm .buttons { display: flex; gap: 12px; margin-top: 10px; align-items: center; }
blockquote.prompt { margin: 6px 0 10px; padding: 6px 12px; border-left: 4px solid #f9a825; background: #fffde7; white-space: pre-wrap; max-width: 44em; }
.linkout { word-break: break-all; background: #f5f5f5; padding: 6px; border: 1px solid var(--line); }
@media (prefers-reduced-motion: reduce) { * { transition: none !important; } }
`;
