import { createSecretKey, KeyObject } from 'node:crypto';

import { Injectable } from '@nestjs/common';
import jwt from 'jsonwebtoken';

import { AppConfig } from '../config/app-config';
import { Role } from '../users/user.entity';
import type { AuthUser } from './auth-user';

interface Claims {
  sub: string;
  role: Role;
  exp?: number;
}

/** Tokens verified lately; a rush sends the same few tokens again and again. */
const VERIFIED_CACHE_SIZE = 50_000;

const roles = new Set<string>(Object.values(Role));

/**
 * HS256 only: `alg: none`, RS256 and friends are refused by the pinned algorithm list.
 * The secret is a KeyObject made once: given a string, jsonwebtoken first tries to parse it
 * as a public key on every call, which was over half the CPU of a booking request.
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

  sign(user: AuthUser): string {
    return jwt.sign({ sub: String(user.id), role: user.role } satisfies Claims, this.key, {
      algorithm: 'HS256',
      expiresIn: this.config.jwtExpiresInSeconds,
    });
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
    try {
      const claims = jwt.verify(token, this.key, { algorithms: ['HS256'] }) as Partial<Claims>;
      const id = Number(claims.sub);
      if (
        !Number.isSafeInteger(id) ||
        id < 1 ||
        typeof claims.role !== 'string' ||
        !roles.has(claims.role) ||
        typeof claims.exp !== 'number'
      ) {
        return undefined;
      }
      const user: AuthUser = { id, role: claims.role };
      if (this.verified.size >= VERIFIED_CACHE_SIZE) {
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(token, { user, expiresAtMs: claims.exp * 1000 });
      return user;
    } catch {
      return undefined;
    }
  }
}
