/**
 * Calls made in one turn of the event loop, sent on together in the next: a runner whose jobs end
 * or become ready together asks the server once for all of them instead of once each.
 */

interface Waiting<A, R> {
  arg: A;
  resolve: (answer: R) => void;
  reject: (err: unknown) => void;
}

/**
 * Wraps `send`, which answers a list of arguments with a list of answers in the same order, as a
 * call of one argument. Every call of a turn goes in one `send`; a failed `send` fails them all.
 */
export function perTurn<A, R>(send: (args: A[]) => Promise<R[]>): (arg: A) => Promise<R> {
  let batch: Array<Waiting<A, R>> | undefined;
  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (batch === undefined) {
        const these: Array<Waiting<A, R>> = [];
        batch = these;
        setImmediate(() => {
          batch = undefined;
          send(these.map((w) => w.arg)).then(
            (answers) => {
              for (const [i, w] of these.entries()) {
                if (i < answers.length) w.resolve(answers[i] as R);
                else w.reject(new Error(`no answer for call ${i + 1} of ${these.length}`));
              }
            },
            (err: unknown) => {
              for (const w of these) w.reject(err);
            },
          );
        });
      }
      batch.push({ arg, resolve, reject });
    });
}
