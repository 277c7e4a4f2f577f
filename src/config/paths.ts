/**
 * Every path Trellis uses on disk comes from here, as a function of the area and the run area,
 * so tests can point everything at a temp folder.
 */
import path from 'node:path';
import { encodePathComponent } from '../util/sanitize.js';

/** Area files: the config, the runconfigs and the tests folder. */
export function areaPaths(areaDir: string) {
  return {
    dir: areaDir,
    trellisConfig: path.join(areaDir, 'trellis.config'),
    megatestConfig: path.join(areaDir, 'megatest.config'),
    runconfigs: path.join(areaDir, 'runconfigs.config'),
    testsDir: path.join(areaDir, 'tests'),
    testDir: (test: string) => path.join(areaDir, 'tests', test),
    testconfig: (test: string) => path.join(areaDir, 'tests', test, 'testconfig'),
  };
}

/** The run area: databases, server packets and work folders. */
export function runAreaPaths(runArea: string) {
  const metaDir = path.join(runArea, '.meta');
  const dbDir = path.join(runArea, '.db');
  return {
    root: runArea,
    metaDir,
    dbDir,
    mainDb: path.join(dbDir, 'main.db'),
    runDb: (runId: number) => path.join(dbDir, `${runId}.db`),
    /** the area's access token: a random secret every request to a server carries */
    tokenFile: path.join(metaDir, 'token'),
    /** the area id servers answer /health with, copied from main.db by the first server */
    areaIdFile: path.join(metaDir, 'area-id'),
    /** the test area folder whose [setup] servers obey, for a server started with --runarea alone */
    areaDirFile: path.join(metaDir, 'area-dir'),
    /** who holds the write lease (proper-lockfile's lock on .db/ carries no owner) */
    leaseOwnerFile: path.join(metaDir, 'lease.json'),
    /** taken by a client before it starts a server, so racing clients start one */
    startLockFile: path.join(metaDir, 'start'),
    /** the in-test channels of the processes running steps (runner/in-test-channel.ts) */
    channelsDir: path.join(metaDir, 'channels'),
    /** runners' launch journals (store/launch-journal.ts) */
    launchesDir: path.join(metaDir, 'launches'),
    /** servers' logs */
    logsDir: path.join(metaDir, 'logs'),
    /** one log file per server */
    serverLog: (host: string, pid: number) => path.join(metaDir, 'logs', `server-${encodePathComponent(host)}-${pid}.log`),
    /** `<runarea>/<target>/<runname>`: each key value and the run name encoded on its own */
    runDir: (targetValues: readonly string[], runname: string) =>
      path.join(runArea, ...targetValues.map(encodePathComponent), encodePathComponent(runname)),
    /** `<runarea>/<target>/<runname>/<test>[/<item values…>]` */
    workDir: (targetValues: readonly string[], runname: string, test: string, itemValues: readonly string[]) =>
      path.join(
        runArea,
        ...targetValues.map(encodePathComponent),
        encodePathComponent(runname),
        encodePathComponent(test),
        ...itemValues.map(encodePathComponent),
      ),
  };
}
export type RunAreaPaths = ReturnType<typeof runAreaPaths>;

/** True when `child` lies inside `parent` (after resolving `..`). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(path.resolve(parent), path.resolve(child));
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
