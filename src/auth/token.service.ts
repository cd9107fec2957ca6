import { createHmac, createSecretKey, KeyObject } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';

import { plainId } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { Role } from '../users/user.entity';
import type { AuthUser } from './auth-user';

interface Claims {
  sub: string;
  role: Role;
  iat: number;
  exp: number;
}

/** Tokens verified lately; a rush sends the same few tokens again and again. */
const VERIFIED_CACHE_SIZE = 50_000;

const roles = new Set<string>(Object.values(Role));

/** Unpadded base64url, as JWS writes each part. */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The header jsonwebtoken writes for HS256, `{"alg":"HS256","typ":"JWT"}`: no need to parse it. */
const HS256_HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString(
  'base64url',
);

/** A part's JSON object, or undefined for anything else (bad base64url, bad JSON, not an object). */
function decodePart(part: string): Record<string, unknown> | undefined {
  if (!BASE64URL.test(part)) {
    return undefined;
  }
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The caller the claims name and until when, if they are well-formed and valid at `nowMs`. */
function callerOf(
  claims: Record<string, unknown>,
  nowMs: number,
): { user: AuthUser; expiresAtMs: number } | undefined {
  const { sub, role, exp, nbf } = claims;
  // The id exactly as this service writes it: "4.0", "0x4" and " 4" are not users.
  const id = plainId(sub);
  if (id === undefined) {
    return undefined;
  }
  const valid =
    typeof role === 'string' &&
    roles.has(role) &&
    typeof exp === 'number' &&
    nowMs < exp * 1000 &&
    (nbf === undefined || (typeof nbf === 'number' && nowMs >= nbf * 1000));
  return valid ? { user: { id, role: role as Role }, expiresAtMs: exp * 1000 } : undefined;
}

/**
 * HS256 only: `alg: none`, RS256 and friends are refused, as is any header but exactly
 * `alg: HS256`. Tokens are signed with jsonwebtoken; they are verified here, by hand: the
 * HMAC of the first two parts compared in constant time with the third, then the claims.
 * A token not seen before costs about half of what jsonwebtoken's verify did, which mattered in
 * a sale's first seconds, when most tokens are new (docs/performance.md). The secret is a
 * KeyObject made once.
 */
@Injectable()
export class TokenService {
  private readonly key: KeyObject;
  /**
   * Token → caller and expiry (ms), for tokens that verified. A token is immutable and signed,
   * so a hit needs only the expiry check; saves the HMAC and two JSON parses per request. Map
   * order is insertion order: when full, the oldest entry goes.
   */
  private readonly verified = new Map<string, { user: AuthUser; expiresAtMs: number }>();

  constructor(private readonly config: AppConfig) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  /** A token for `user`, remembered as verified: the first request that carries it skips the HMAC. */
  sign(user: AuthUser): string {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + this.config.jwtExpiresInSeconds;
    const token = jwt.sign(
      { sub: String(user.id), role: user.role, iat, exp } satisfies Claims,
      this.key,
      { algorithm: 'HS256' },
    );
    this.remember(token, { id: user.id, role: user.role }, exp * 1000);
    return token;
  }

  /** The caller, or undefined for any token that is not ours, not HS256, or expired. */
  verify(token: string): AuthUser | undefined {
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (Date.now() < known.expiresAtMs) {
        return known.user;
      }
      this.verified.delete(token);
      return undefined;
    }
    const claims = this.verifySignature(token);
    const caller = claims && callerOf(claims, Date.now());
    if (caller !== undefined) {
      this.remember(token, caller.user, caller.expiresAtMs);
    }
    return caller?.user;
  }

  /** The claims of a token whose header is HS256 and whose signature is ours; else undefined. */
  private verifySignature(token: string): Record<string, unknown> | undefined {
    const firstDot = token.indexOf('.');
    const lastDot = token.lastIndexOf('.');
    if (firstDot <= 0 || lastDot === firstDot || token.indexOf('.', firstDot + 1) !== lastDot) {
      return undefined;
    }
    const headerPart = token.slice(0, firstDot);
    if (headerPart !== HS256_HEADER) {
      const header = decodePart(headerPart);
      if (header?.alg !== 'HS256' || header.crit !== undefined) {
        return undefined;
      }
    }
    const expected = createHmac('sha256', this.key)
      .update(token.slice(0, lastDot))
      .digest('base64url');
    // Compared as text, so only the one unpadded base64url spelling of the signature passes
    // (not padding, stray low bits, or characters that narrow to the same bytes); every
    // character is compared, whatever the first difference, so the time tells nothing.
    if (token.length - lastDot - 1 !== expected.length) {
      return undefined;
    }
    let difference = 0;
    for (let i = 0; i < expected.length; i++) {
      difference |= token.charCodeAt(lastDot + 1 + i) ^ expected.charCodeAt(i);
    }
    return difference === 0 ? decodePart(token.slice(firstDot + 1, lastDot)) : undefined;
  }

  private remember(token: string, user: AuthUser, expiresAtMs: number): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, { user, expiresAtMs });
  }
}
