/**
 * Secrets anyone can read, because they are in this repository or its history: the first
 * releases' default and the tests' own. Production refuses each of them, however strong it
 * looks (issue 23, L1). `known-secrets.spec.ts` finds every secret-like literal in the
 * repository and fails until it is listed here.
 */
export const KNOWN_SECRETS: ReadonlySet<string> = new Set([
  'dev-only-insecure-jwt-secret-change-me',
  'test-secret-that-is-long-enough-0123456789',
  'unit-test-secret-0123456789-0123456789',
  'hT3q9ZrV1xK7pWmN2bE5sLdC8yGfA0uJ',
  '0123456789abcdef0123456789abcdef',
  'realtime-hostile-secret-0123456789abcdef',
  'rush-secret-rush-secret-rush-secret-0123',
  'thread-secret-thread-secret-thread-0123',
  'start-supervision-secret-0123456789abcdef',
]);
