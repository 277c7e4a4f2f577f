/** A real pino logger that keeps its lines in memory, for tests of what a server logs. */
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface MemoryLog {
  logger: Logger;
  /** every line, parsed */
  entries: Array<Record<string, unknown>>;
  /** the error lines (level 50 and up), as JSON text */
  errors: string[];
}

export function memoryLogger(level = 'debug'): MemoryLog {
  const entries: Array<Record<string, unknown>> = [];
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        const entry = JSON.parse(line) as Record<string, unknown>;
        entries.push(entry);
        if (typeof entry['level'] === 'number' && entry['level'] >= 50) errors.push(line);
      }
      done();
    },
  });
  return { logger: pino({ level }, sink), entries, errors };
}
