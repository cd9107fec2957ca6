/**
 * Answers that carry a token or one user's data: no cache (a shared proxy, the browser's
 * back button) may keep them. Every answer to a request with a credential gets it from
 * security-headers.ts; routes that answer a token or a session to a caller without one (login,
 * signup, session) say it themselves.
 */
export const PRIVATE_NO_STORE = 'no-store';
