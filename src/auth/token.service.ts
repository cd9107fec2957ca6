import { createHmac, createSecretKey, KeyObject, randomBytes } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';

import { plainId } from '../common/ids';
import { AppConfig } from '../config/app-config';
import { Role } from '../users/user.entity';
import type { AuthUser } from './auth-user.type';
import { Revocations, Session } from './revocations';

interface Claims {
  sub: string;
  role: Role;
  iat: number;
  exp: number;
  /** This token's id, by which logout revokes it. */
  jti: string;
  /** The user's generation when it was signed (revocations.ts). */
  gen: number;
}

/** A verified token: who, until when, and what its revocation is checked by. */
export interface VerifiedToken extends Session {
  user: AuthUser;
  expiresAtMs: number;
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

/** jti and gen are optional (tokens signed before revocation have neither), but typed when present. */
const revocable = (jti: unknown, gen: unknown): boolean =>
  (jti === undefined || typeof jti === 'string') &&
  (gen === undefined || (typeof gen === 'number' && Number.isSafeInteger(gen)));

/** The caller the claims name and until when, if they are well-formed and valid at `nowMs`. */
function callerOf(claims: Record<string, unknown>, nowMs: number): VerifiedToken | undefined {
  const { sub, role, exp, nbf, jti, gen } = claims;
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
    (nbf === undefined || (typeof nbf === 'number' && nowMs >= nbf * 1000)) &&
    revocable(jti, gen);
  return valid
    ? {
        user: { id, role: role as Role },
        userId: id,
        expiresAtMs: exp * 1000,
        jti: jti as string | undefined,
        generation: (gen as number | undefined) ?? 0,
      }
    : undefined;
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
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly config: AppConfig,
    @Inject(Revocations) private readonly revocations: Pick<Revocations, 'isRevoked'>,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  /**
   * A token for `user` carrying `generation` (Revocations.generationOf), remembered as
   * verified: the first request that carries it skips the HMAC.
   */
  sign(user: AuthUser, generation = 0): string {
    const iat = Math.floor(Date.now() / 1000);
    const exp = iat + this.config.jwtExpiresInSeconds;
    const jti = randomBytes(16).toString('base64url');
    const token = jwt.sign(
      { sub: String(user.id), role: user.role, iat, exp, jti, gen: generation } satisfies Claims,
      this.key,
      { algorithm: 'HS256' },
    );
    this.remember(token, {
      user: { id: user.id, role: user.role },
      userId: user.id,
      expiresAtMs: exp * 1000,
      jti,
      generation,
    });
    return token;
  }

  /** The caller, or undefined for any token that is not ours, not HS256, expired or revoked. */
  verify(token: string): AuthUser | undefined {
    return this.inspect(token)?.user;
  }

  /** The verified token with its id and generation (logout revokes by them), or undefined. */
  inspect(token: string): VerifiedToken | undefined {
    let known = this.verified.get(token);
    if (known === undefined) {
      const claims = this.verifySignature(token);
      known = claims && callerOf(claims, Date.now());
      if (known === undefined) {
        return undefined;
      }
      this.remember(token, known);
    }
    // A hit costs the expiry check and two Map lookups (revocations live in memory).
    if (Date.now() >= known.expiresAtMs || this.revocations.isRevoked(known)) {
      this.verified.delete(token);
      return undefined;
    }
    return known;
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

  private remember(token: string, verified: VerifiedToken): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      this.verified.delete(this.verified.keys().next().value!);
    }
    this.verified.set(token, verified);
  }
}
