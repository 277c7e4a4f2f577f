/** A server's answer turned into its result, or into the error it named (as the direct store throws it). */
import { ErrorCodes, TrellisError, type ErrorCode } from '../util/errors.js';

/** The result of a 200 answer; any other throws the TrellisError the server named. */
export function decodeAnswer<T>(status: number, body: unknown, method: string): T {
  const b = (body ?? {}) as { result?: T; error?: { code?: string; message?: string; hint?: string } };
  if (status === 200) return b.result as T;
  const e = b.error ?? {};
  const message = e.message ?? `${method}: the server answered ${status}`;
  if (status === 401 && (e.code === undefined || e.code === 'UNAUTHORIZED')) {
    throw new TrellisError(
      'UNAUTHORIZED',
      `the server refused the area token (${message})`,
      "the run area's .meta/token changed or is unreadable; see `trellis server list`",
    );
  }
  if (e.code !== undefined && e.code in ErrorCodes && e.code !== 'INTERNAL') {
    throw new TrellisError(e.code as ErrorCode, message, e.hint);
  }
  throw new TrellisError('SERVER_ERROR', `the server failed ${method}: ${message}`, e.hint ?? 'see the server log in <runarea>/.meta/logs');
}

/** The error code of an answer's body, if it has one. */
export function answerCode(body: unknown): string | undefined {
  const code = (body as { error?: { code?: unknown } } | undefined)?.error?.code;
  return typeof code === 'string' ? code : undefined;
}
