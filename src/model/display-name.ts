/**
 * How people see a test or item, and the key they know a row by: `test`, or `test/itempath`
 * (test names never hold a `/`). The one place this rule is written.
 */
export function displayName(t: { readonly testname: string; readonly itempath?: string | undefined }): string {
  return t.itempath ? `${t.testname}/${t.itempath}` : t.testname;
}

/** Where a test ran, for people: `vm (pid 42), slurm job 1234` (`-` before it ran). */
export function describePlacement(t: { host: string; pid: number | null; launcher: string; jobId: string }): string {
  const host = `${t.host || '-'}${t.pid ? ` (pid ${t.pid})` : ''}`;
  if (t.launcher === '' || t.launcher === 'local') return host;
  if (t.launcher === 'agents') return t.jobId === '' ? `${host}, queued for an agent` : `${host}, agent ${t.jobId}`;
  const job = t.jobId === '' ? '' : t.launcher === 'ssh' ? ` to ${t.jobId}` : ` job ${t.jobId}`;
  return `${host}, ${t.launcher}${job}`;
}
