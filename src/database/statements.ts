/**
 * A named prepared statement: parsed once per connection, and its SQL checked in under
 * `src/<domain>/queries/<name>.sql` (queries.spec.ts keeps those files equal to the code, the
 * way docs/openapi.json is kept honest), so a changed hot query shows in the diff.
 */
export interface Statement {
  readonly domain: string;
  readonly name: string;
  readonly text: string;
}

const defined = new Map<string, Statement>();

/** Define one, at module level; a name is one statement in the whole application. */
export function statement(domain: string, name: string, text: string): Statement {
  const earlier = defined.get(name);
  if (earlier && earlier.text !== text) {
    throw new Error(`prepared statement '${name}' is defined twice with different SQL`);
  }
  const s = { domain, name, text };
  defined.set(name, s);
  return s;
}

/** Every statement defined by the modules loaded so far. */
export function definedStatements(): Statement[] {
  return [...defined.values()].sort((a, b) => a.name.localeCompare(b.name));
}
