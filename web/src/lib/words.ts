import type { TFunction } from 'i18next';

import { ApiError } from '../api/client';

/** An error code in words, from the catalogue (never the server's English message). */
export function errorText(t: TFunction, code: string): string {
  return t(`errors.${code}`, { defaultValue: t('errors.unknown', { code }) });
}

/** Any thrown value in words. */
export function describeError(t: TFunction, error: unknown): string {
  return errorText(t, error instanceof ApiError ? error.code : 'NETWORK_ERROR');
}

/** A field problem's code in words (`fields.PASSWORD_TOO_COMMON`, …). */
export function fieldText(t: TFunction, code: string): string {
  return t(`fields.${code}`, { defaultValue: t('fields.other') });
}
