/**
 * Answers that carry a token or one user's data: no cache (a shared proxy, the browser's
 * back button) may keep them.
 */
export const PRIVATE_NO_STORE = 'no-store';
