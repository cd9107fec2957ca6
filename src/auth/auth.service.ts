import { Injectable } from '@nestjs/common';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { PG_UNIQUE_VIOLATION, pgError } from '../database/sql';
import { UserDto } from '../users/user.dto';
import { UsersRepository } from '../users/users.repository';
import { LoginDto, SignupDto } from './auth.dto';
import type { AuthUser } from './auth-user';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
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

  /** Unknown email and wrong password take the same time and give the same answer. */
  async login(dto: LoginDto, ip: string): Promise<{ accessToken: string }> {
    const email = normaliseEmail(dto.email);
    await this.limiter.assertAllowed(email, ip);
    const user = await this.users.getCredentialsByEmail(email);
    const ok = user
      ? await this.hasher.verify(user.passwordHash, dto.password)
      : await this.hasher.verifyNothing(dto.password);
    if (!user || !ok) {
      await this.limiter.recordFailure(email, ip);
      throw new AppError(ErrorCode.InvalidCredentials);
    }
    await this.limiter.recordSuccess(email, ip);
    return { accessToken: this.tokens.sign({ id: user.id, role: user.role }) };
  }

  async me(who: AuthUser): Promise<UserDto> {
    const user = await this.users.getById(who.id);
    if (!user) {
      throw new AppError(ErrorCode.Unauthorized);
    }
    return UserDto.from(user);
  }
}
