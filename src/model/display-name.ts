/** How people see a test or item: `test`, or `test/itempath`. */
export function displayName(testname: string, itempath: string): string {
  return itempath === '' ? testname : `${testname}/${itempath}`;
}

/** Where a test ran, for people: `vm (pid 42), slurm job 1234` (`-` before it ran). */
export function describePlacement(t: { host: string; pid: number | null; launcher: string; jobId: string }): string {
  const host = `${t.host || '-'}${t.pid ? ` (pid ${t.pid})` : ''}`;
  if (t.launcher === '' || t.launcher === 'local') return host;
  const job = t.jobId === '' ? '' : t.launcher === 'ssh' ? ` to ${t.jobId}` : ` job ${t.jobId}`;
  return `${host}, ${t.launcher}${job}`;
}
