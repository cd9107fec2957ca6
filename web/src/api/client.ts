import createClient from 'openapi-fetch';

import type { components, paths } from './schema';

export type Goods = components['schemas']['GoodsDto'];
export type GoodsPage = components['schemas']['GoodsPageDto'];
export type User = components['schemas']['UserDto'];
export type ErrorBody = components['schemas']['ErrorBodyDto'];
export type FieldError = components['schemas']['FieldErrorDto'];

/**
 * The API, typed from docs/openapi.json (schema.d.ts is generated from it; a drift test
 * fails the build when a route changes). The session is the httpOnly cookie the login sets:
 * this page never sees or stores the token.
 */
export const api = createClient<paths>({
  // Absolute, so a Request can be made of it outside a browser too (the component tests).
  baseUrl: globalThis.location?.origin ?? '/',
  credentials: 'same-origin',
  // Looked up at each call, not once at start (openapi-fetch's default): tests replace it.
  fetch: (request) => globalThis.fetch(request),
});

/** An answer that was not 2xx, with its stable code (never its English message) to word it by. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly fields: FieldError[] = [],
    readonly retryAfter: string | null = null,
  ) {
    super(code);
    this.name = 'ApiError';
  }
}

/** The data of a 2xx answer, or an ApiError (NETWORK_ERROR when no answer came). */
export async function call<T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await request;
  } catch {
    throw new ApiError(0, 'NETWORK_ERROR');
  }
  const { data, error, response } = result;
  if (response.ok) {
    return data as T;
  }
  const body = (error ?? {}) as Partial<ErrorBody>;
  throw new ApiError(
    response.status,
    typeof body.code === 'string' ? body.code : `HTTP_${response.status}`,
    Array.isArray(body.fields) ? body.fields : [],
    response.headers.get('retry-after'),
  );
}
