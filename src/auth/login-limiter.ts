import { createHash } from 'node:crypto';

import { Inject, Injectable } from '@nestjs/common';

import { AppError } from '../common/app-error';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import type { ScriptedRedis } from '../redis/scripts';

/**
 * Counts failed logins per account and per client address in Redis (shared by every
 * instance). Checked before the password hash is computed, so credential stuffing meets a
 * 429 instead of our CPU.
 */
@Injectable()
export class LoginLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: ScriptedRedis,
    private readonly config: AppConfig,
  ) {}

  private keys(email: string, ip: string): [account: string, address: string] {
    const account = createHash('sha256').update(email).digest('base64url');
    return [`login-fail:acct:${account}`, `login-fail:ip:${ip}`];
  }

  async assertAllowed(email: string, ip: string): Promise<void> {
    const [account, address] = this.keys(email, ip);
    const [[accountHits, accountMs], [addressHits, addressMs]] = await Promise.all([
      this.redis.peekWindow(account),
      this.redis.peekWindow(address),
    ]);
    if (accountHits >= this.config.loginMaxFailures) {
      throw AppError.rateLimited(accountMs / 1000);
    }
    if (addressHits >= this.config.loginMaxFailuresPerIp) {
      throw AppError.rateLimited(addressMs / 1000);
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    const [account, address] = this.keys(email, ip);
    const windowMs = this.config.loginFailureWindowSeconds * 1000;
    await Promise.all([
      this.redis.hitWindow(account, windowMs, this.config.loginMaxFailures),
      this.redis.hitWindow(address, windowMs, this.config.loginMaxFailuresPerIp),
    ]);
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.redis.del(this.keys(email, ip)[0]);
  }
}
