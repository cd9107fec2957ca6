import argon2 from 'argon2';

/**
 * argon2id at OWASP's minimum (19 MiB, 2 passes, 1 lane). Slow on purpose; login and signup
 * are rate limited so this cost can't be turned against us.
 */
export const ARGON2_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export class PasswordHasher {
  /** Hash of a random password: verifying against it costs the same as a real check. */
  private dummyHash?: Promise<string>;

  hash(password: string): Promise<string> {
    return argon2.hash(password, ARGON2_OPTIONS);
  }

  async verify(hash: string, password: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  }

  /** Spend the time of one verification, for unknown accounts (no timing oracle). */
  async verifyNothing(password: string): Promise<false> {
    this.dummyHash ??= this.hash(`no-such-user-${Math.random()}`);
    await this.verify(await this.dummyHash, password);
    return false;
  }
}
