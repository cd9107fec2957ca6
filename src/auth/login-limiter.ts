import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

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
 *   address gets one guess per window;
 * - per account, whatever the address (issue 23, M1): past LOGIN_DELAY_AFTER failures in
 *   total, one attempt at a time, each claiming a slot in Redis that lasts twice as long as
 *   the last (1 s, 2 s, 4 s… up to LOGIN_DELAY_MAX): a guess spread over a million addresses
 *   gets no more tries than one from a single address. The owner is delayed too, never shut
 *   out; from a browser the account has logged in from before (its device cookie, OWASP's
 *   "device cookies") not even that, so an attacker timing their guesses to take every slot
 *   cannot keep the owner out.
 * Checked before the password hash is computed, so credential stuffing meets a 429 instead of
 * our CPU.
 */
@Injectable()
export class LoginLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  private keys(
    email: string,
    ip: string,
  ): { pair: string; account: string; address: string; slot: string } {
    const hash = (v: string) => createHash('sha256').update(v).digest('base64url');
    // An IPv6 client holds a /64 (or more): counted per address, it would have 2^64 of them.
    // The throttler's own rule, so both limits count a client alike.
    ip = normalizeIp(ip);
    return {
      pair: `login-fail:pair:${hash(`${email}\n${ip}`)}`,
      account: `login-fail:acct:${hash(email)}`,
      address: `login-fail:ip:${ip}`,
      slot: `login-slot:acct:${hash(email)}`,
    };
  }

  /**
   * The device cookie for `email`: proof that this browser logged in to the account before.
   * Keyed by the signing secret, so nobody can make one; it only spares the account-wide
   * delay (the per-address limits still hold).
   */
  deviceToken(email: string): string {
    return createHmac('sha256', this.config.jwtSecret)
      .update(`login-device\n${email}`)
      .digest('base64url');
  }

  private knownDevice(email: string, token: string | undefined): boolean {
    if (token === undefined) {
      return false;
    }
    const expected = Buffer.from(this.deviceToken(email));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** How long the next attempt on an account waits after `failures` in total. */
  private delayMs(failures: number): number {
    const doublings = Math.min(failures - this.config.loginDelayAfter, 30);
    return Math.min(1000 * 2 ** doublings, this.config.loginDelayMaxMs);
  }

  async assertAllowed(email: string, ip: string, device?: string): Promise<void> {
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
    if (accountHits >= this.config.loginDelayAfter && !this.knownDevice(email, device)) {
      await this.claimSlot(keys.slot, this.delayMs(accountHits));
    }
  }

  /** One attempt per slot: SET NX, so concurrent attempts from anywhere get one through. */
  private async claimSlot(key: string, ms: number): Promise<void> {
    const [claimed, leftMs] = await Promise.all([
      this.redis.set(key, '1', 'PX', ms, 'NX'),
      this.redis.pttl(key),
    ]).catch(() => {
      throw AppError.limitsUnavailable();
    });
    if (claimed === null) {
      throw AppError.rateLimited(Math.max(leftMs, 1) / 1000);
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
    await this.redis.del(keys.pair, keys.account, keys.slot).catch(() => undefined);
  }
}
