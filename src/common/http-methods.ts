const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Methods that change something (and may carry a body); RFC 9110 §9.2.1's safe ones do not. */
export const isUnsafeMethod = (method: string): boolean => !SAFE_METHODS.has(method);
