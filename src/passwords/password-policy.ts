import { createRequire } from 'node:module';

/**
 * What a password must be (ASVS 5 §6.2, NIST SP 800-63B §3.1.1.2): long enough, not too long
 * to hash, not a well-known password, not the account's own name. No composition rules: they
 * push people to `Password1!` and keep out passphrases.
 */
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/** Why a password is refused; clients show the reason by this code. */
export enum PasswordProblem {
  TooShort = 'PASSWORD_TOO_SHORT',
  TooLong = 'PASSWORD_TOO_LONG',
  TooCommon = 'PASSWORD_TOO_COMMON',
  TooPredictable = 'PASSWORD_TOO_PREDICTABLE',
  ContainsIdentity = 'PASSWORD_CONTAINS_IDENTITY',
}

export const passwordProblemMessages: Record<PasswordProblem, string> = {
  [PasswordProblem.TooShort]: `password must be at least ${PASSWORD_MIN_LENGTH} characters`,
  [PasswordProblem.TooLong]: `password must be at most ${PASSWORD_MAX_LENGTH} characters`,
  [PasswordProblem.TooCommon]:
    'password is one of the most common passwords (or one with digits or symbols added); choose another, a few words work well',
  [PasswordProblem.TooPredictable]:
    'password is a repeat (aaaaaaaa), a sequence (abcdefgh, 12345678) or the name of this service; choose another, a few words work well',
  [PasswordProblem.ContainsIdentity]: 'password must not contain your email or nickname',
};

/** Names shorter than this are too likely to appear by chance to be refused inside a password. */
const IDENTITY_MIN_LENGTH = 3;

/** Digits, punctuation and spaces people add around a common word: `password1!`, `!qwerty123`. */
const DECORATION = /^[\p{N}\p{P}\p{S}\s]+|[\p{N}\p{P}\p{S}\s]+$/gu;

let common: Set<string> | undefined;

/**
 * The 49,000 passwords of zxcvbn-ts' common list (from leaked password sets, most frequent
 * first), lower-cased; read on first use (about 3 MB).
 */
function commonPasswords(): Set<string> {
  if (common === undefined) {
    const require = createRequire(__filename);
    const { dictionary } = require('@zxcvbn-ts/language-common') as {
      dictionary: { 'passwords-common': string[] };
    };
    common = new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return common;
}

/** Length in characters as people count them (code points), not UTF-16 units. */
const lengthOf = (password: string): number => [...password].length;

export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  const core = lower.replace(DECORATION, '');
  const list = commonPasswords();
  return list.has(lower) || (core.length > 0 && list.has(core));
}

/** The words of this service: the first a guesser who aims at it tries (ASVS 6.2.11). */
const CONTEXT_WORDS = ['ticketnest'];

/** Four or more characters that each go one up (abcd, 1234) or one down from the last. */
function isSequence(text: string): boolean {
  const points = [...text].map((c) => c.codePointAt(0)!);
  const step = points[1] - points[0];
  return (
    points.length >= 4 &&
    Math.abs(step) === 1 &&
    points.every((p, i) => i === 0 || p - points[i - 1] === step)
  );
}

/**
 * A repeat of one to four characters (aaaaaaaa, abcabcab…), a sequence (abcdefgh, 87654321),
 * with or without decoration around it, or the service's own name anywhere in it: guessed in
 * a few thousand tries although on no leaked list (issue 23, L6).
 */
export function isPredictable(password: string): boolean {
  const lower = password.normalize('NFKC').toLowerCase();
  // As typed; without the digits and symbols around a word; without the symbols around digits.
  const cores = [
    lower,
    lower.replace(DECORATION, ''),
    lower.replace(/^[\p{P}\p{S}\s]+|[\p{P}\p{S}\s]+$/gu, ''),
  ];
  const squeezed = lower.replace(/[\s\p{P}]/gu, '');
  return (
    cores.some((text) => /^(.{1,4})\1+$/su.test(text) || isSequence(text)) ||
    CONTEXT_WORDS.some((word) => squeezed.includes(word))
  );
}

/** Does the password contain the email (or its part before @) or the nickname? */
export function containsIdentity(
  password: string,
  identity: { email?: unknown; nickname?: unknown },
): boolean {
  const lower = password.toLowerCase();
  const names: string[] = [];
  if (typeof identity.email === 'string') {
    const email = identity.email.trim().toLowerCase();
    names.push(email, email.split('@')[0]);
  }
  if (typeof identity.nickname === 'string') {
    names.push(identity.nickname.normalize('NFC').toLowerCase());
  }
  return names.some((name) => name.length >= IDENTITY_MIN_LENGTH && lower.includes(name));
}

/** The first rule `password` breaks, or undefined when it is acceptable. */
export function passwordProblem(
  password: string,
  identity: { email?: unknown; nickname?: unknown } = {},
): PasswordProblem | undefined {
  const length = lengthOf(password);
  if (length < PASSWORD_MIN_LENGTH) {
    return PasswordProblem.TooShort;
  }
  if (length > PASSWORD_MAX_LENGTH) {
    return PasswordProblem.TooLong;
  }
  if (isCommonPassword(password)) {
    return PasswordProblem.TooCommon;
  }
  if (isPredictable(password)) {
    return PasswordProblem.TooPredictable;
  }
  return containsIdentity(password, identity) ? PasswordProblem.ContainsIdentity : undefined;
}
