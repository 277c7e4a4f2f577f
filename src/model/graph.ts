/** Dependency-graph rules: cycle detection and topological order over test names. */

/**
 * Returns one cycle (as a list of names, first repeated at the end) in the graph given by `edges`
 * (name → names it waits on), or null when there is none.
 */
export function findCycle(names: Iterable<string>, edges: (name: string) => readonly string[]): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    const seen = state.get(name);
    if (seen === 'done') return null;
    if (seen === 'open') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'open');
    stack.push(name);
    for (const next of edges(name)) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of names) {
    const cycle = visit(name);
    if (cycle) return cycle;
  }
  return null;
}

/** All names reachable from `roots` through `edges`, roots included, in first-visit order. */
export function closure(roots: Iterable<string>, edges: (name: string) => readonly string[]): Set<string> {
  const out = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (out.has(name)) continue;
    out.add(name);
    for (const next of edges(name)) if (!out.has(next)) todo.push(next);
  }
  return out;
}
