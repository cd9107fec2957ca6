import { Injectable } from '@nestjs/common';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { PG_UNIQUE_VIOLATION, pgError } from '../database/sql';
import { UserDto } from '../users/user.dto';
import { UsersRepository } from '../users/users.repository';
import { ChangePasswordDto, LoginDto, SignupDto } from './auth.dto';
import type { AuthUser } from './auth-user';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { passwordProblem, passwordProblemMessages } from '../passwords/password-policy';
import { Revocations } from './revocations';
import { TokenService } from './token.service';

const uniqueViolationCodes: Record<string, ErrorCode> = {
  users_email_key: ErrorCode.EmailTaken,
  users_nickname_key: ErrorCode.NicknameTaken,
};

export const normaliseEmail = (email: string): string => email.trim().toLowerCase();

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenService,
    private readonly limiter: LoginLimiter,
    private readonly revocations: Revocations,
  ) {}

  async signup(dto: SignupDto): Promise<UserDto> {
    const passwordHash = await this.hasher.hash(dto.password);
    try {
      const user = await this.users.create({
        email: normaliseEmail(dto.email),
        nickname: dto.nickname,
        passwordHash,
      });
      return UserDto.from(user);
    } catch (error) {
      const { code, constraint } = pgError(error);
      if (
        code === PG_UNIQUE_VIOLATION &&
        constraint !== undefined &&
        constraint in uniqueViolationCodes
      ) {
        throw new AppError(uniqueViolationCodes[constraint]);
      }
      throw error;
    }
  }

  /**
   * Unknown email and wrong password take the same time and give the same answer. `device`:
   * the browser's device cookie, if any; the answer carries the one to keep (LoginLimiter).
   */
  async login(
    dto: LoginDto,
    ip: string,
    device?: string,
  ): Promise<{ accessToken: string; device: string }> {
    const email = normaliseEmail(dto.email);
    await this.limiter.assertAllowed(email, ip, device);
    const user = await this.users.getCredentialsByEmail(email);
    const ok = user
      ? await this.hasher.verify(user.passwordHash, dto.password)
      : await this.hasher.verifyNothing(dto.password);
    if (!user || !ok) {
      await this.limiter.recordFailure(email, ip);
      throw new AppError(ErrorCode.InvalidCredentials);
    }
    await this.limiter.recordSuccess(email, ip);
    return { accessToken: await this.signFor(user), device: this.limiter.deviceToken(email) };
  }

  /** A token carrying the user's current generation (read from Redis, fail closed: 503). */
  private async signFor(user: AuthUser): Promise<string> {
    const generation = await this.revocations
      .generationOf(user.id)
      .catch(() => Promise.reject(AppError.limitsUnavailable()));
    return this.tokens.sign({ id: user.id, role: user.role }, generation);
  }

  /**
   * Revoke this token (until it would have expired). A token that no longer verifies needs
   * nothing; one signed before tokens had ids ends every session of its user.
   */
  async logout(token: string | undefined): Promise<void> {
    const session = token === undefined ? undefined : this.tokens.inspect(token);
    if (session === undefined) {
      return;
    }
    const revoked =
      session.jti === undefined
        ? this.revocations.revokeUser(session.userId)
        : this.revocations.revokeToken(session.jti, session.userId, session.expiresAtMs);
    await revoked.catch(() => Promise.reject(AppError.limitsUnavailable()));
  }

  /**
   * Check the current password (failures count as failed logins), hold the new one to the
   * rules, store it, end every session of the user, and return a token for this one.
   */
  async changePassword(
    who: AuthUser,
    dto: ChangePasswordDto,
    ip: string,
  ): Promise<{ accessToken: string }> {
    const user = await this.users.getCredentialsById(who.id);
    if (!user) {
      throw new AppError(ErrorCode.Unauthorized);
    }
    await this.limiter.assertAllowed(user.email, ip);
    if (!(await this.hasher.verify(user.passwordHash, dto.currentPassword))) {
      await this.limiter.recordFailure(user.email, ip);
      throw AppError.invalid([
        {
          field: 'currentPassword',
          code: ErrorCode.InvalidCredentials,
          message: 'The current password is wrong.',
        },
      ]);
    }
    const problem = passwordProblem(dto.newPassword, user);
    if (problem !== undefined) {
      throw AppError.invalid([
        { field: 'newPassword', code: problem, message: passwordProblemMessages[problem] },
      ]);
    }
    await this.users.setPasswordHash(user.id, await this.hasher.hash(dto.newPassword));
    await this.revocations
      .revokeUser(user.id)
      .catch(() => Promise.reject(AppError.limitsUnavailable()));
    return { accessToken: await this.signFor(user) };
  }

  async me(who: AuthUser): Promise<UserDto> {
    const user = await this.users.getById(who.id);
    if (!user) {
      throw new AppError(ErrorCode.Unauthorized);
    }
    return UserDto.from(user);
  }
}
