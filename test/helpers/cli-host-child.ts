/**
 * The CLI host (see cli-host.ts): a child process that runs the real CLI entry (runMain) for each
 * command line its parent sends, with that command line's folder and environment and its own
 * captured output, and answers with the exit code and the output.
 */
import { Readable, Writable } from 'node:stream';
import { runMain } from '../../src/cli/main.js';

interface Call {
  id: number;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString();
    done();
  }
}

process.on('message', (msg: Call) => {
  const stdout = new Capture();
  const stderr = new Capture();
  const stdin = Readable.from([]);
  void runMain(msg.argv, { cwd: msg.cwd, env: msg.env, stdout, stderr, stdin }).then(
    (code) => process.send?.({ id: msg.id, code, stdout: stdout.text, stderr: stderr.text }),
    (err: unknown) => process.send?.({ id: msg.id, code: 70, stdout: stdout.text, stderr: `${stderr.text}host: ${String(err)}\n` }),
  );
});
