import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';
import { normalizeIp } from '@nestjs/throttler';

import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

/**
 * Counts failed logins in Redis (shared by every instance), so that nobody can lock someone
 * else out (ASVS 6.1.1, CWE-645) while guessing stays bounded:
 * - per (account, client address): LOGIN_MAX_FAILURES, then that address waits for that
 *   account; another address is not affected;
 * - per client address, across accounts: LOGIN_MAX_FAILURES_PER_IP (credential stuffing);
 * - per account, across addresses: past LOGIN_MAX_FAILURES_PER_ACCOUNT (a distributed guess),
 *   an address that has failed for the account waits; one that has not still has its password
 *   checked, so the right password from a clean address always gets in, and every further
 *   address gets one guess per window.
 * Checked before the password hash is computed, so credential stuffing meets a 429 instead of
 * our CPU.
 */
@Injectable()
export class LoginLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  private keys(email: string, ip: string): { pair: string; account: string; address: string } {
    const hash = (v: string) => createHash('sha256').update(v).digest('base64url');
    // An IPv6 client holds a /64 (or more): counted per address, it would have 2^64 of them.
    // The throttler's own rule, so both limits count a client alike.
    ip = normalizeIp(ip);
    return {
      pair: `login-fail:pair:${hash(`${email}\n${ip}`)}`,
      account: `login-fail:acct:${hash(email)}`,
      address: `login-fail:ip:${ip}`,
    };
  }

  async assertAllowed(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    const [[pairHits, pairMs], [accountHits, accountMs], [addressHits, addressMs]] =
      await Promise.all([
        this.redis.peekWindow(keys.pair),
        this.redis.peekWindow(keys.account),
        this.redis.peekWindow(keys.address),
      ]).catch(() => {
        throw AppError.limitsUnavailable();
      });
    if (pairHits >= this.config.loginMaxFailures) {
      throw AppError.rateLimited(pairMs / 1000);
    }
    if (addressHits >= this.config.loginMaxFailuresPerIp) {
      throw AppError.rateLimited(addressMs / 1000);
    }
    if (accountHits >= this.config.loginMaxFailuresPerAccount && pairHits > 0) {
      throw AppError.rateLimited(Math.min(accountMs, pairMs) / 1000);
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    const windowMs = this.config.loginFailureWindowSeconds * 1000;
    await Promise.all([
      this.redis.hitWindow(keys.pair, windowMs, this.config.loginMaxFailures),
      this.redis.hitWindow(keys.account, windowMs, this.config.loginMaxFailuresPerAccount),
      this.redis.hitWindow(keys.address, windowMs, this.config.loginMaxFailuresPerIp),
    ]).catch(() => {
      throw AppError.limitsUnavailable();
    });
  }

  /** The owner got in: their account's and this address's counts for it start again. */
  async recordSuccess(email: string, ip: string): Promise<void> {
    const keys = this.keys(email, ip);
    // Counts that outlive a Redis outage only make the owner wait less: never fail a login here.
    await this.redis.del(keys.pair, keys.account).catch(() => undefined);
  }
}
