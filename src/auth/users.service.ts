import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';

import type { AuthUser } from './auth-user';
import { PasswordHasher } from './password-hasher';
import { Revocations } from './revocations';
import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { ChangeRoleDto, UserDto } from '../users/user.dto';
import { UsersRepository } from '../users/users.repository';

@Injectable()
export class UsersService implements OnApplicationBootstrap {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly config: AppConfig,
    private readonly revocations: Revocations,
  ) {}

  async changeRole(who: AuthUser, userId: number, dto: ChangeRoleDto): Promise<UserDto> {
    if (userId === who.id) {
      // Keeps at least one admin: nobody can lock themselves (and everyone) out.
      throw new AppError(ErrorCode.Conflict, 'You cannot change your own role.');
    }
    const user = await this.users.setRole(userId, dto.role);
    if (!user) {
      throw new AppError(ErrorCode.NotFound, 'No such user.');
    }
    // Tokens carry the role: the user's sessions end, and the next login carries the new one.
    await this.revocations
      .revokeUser(userId)
      .catch(() => Promise.reject(AppError.limitsUnavailable()));
    return UserDto.from(user);
  }

  /** ADMIN_EMAIL/ADMIN_PASSWORD: that admin exists after start, with that password. */
  async onApplicationBootstrap(): Promise<void> {
    const admin = this.config.admin;
    if (!admin) {
      return;
    }
    const email = admin.email.trim().toLowerCase();
    const base = email.split('@')[0].replace(/\s/g, '').slice(0, 10) || 'admin';
    const nickname = (await this.users.nicknameTaken(base)) ? `adm${Date.now() % 1e7}` : base;
    const before = await this.users.getCredentialsByEmail(email);
    const user = await this.users.upsertAdmin(
      email,
      nickname,
      await this.hasher.hash(admin.password),
    );
    if (before && !(await this.hasher.verify(before.passwordHash, admin.password))) {
      // ADMIN_PASSWORD changed: sessions opened with the old one end.
      await this.revocations.revokeUser(user.id);
    }
    this.logger.log(`admin ${user.email} (id ${user.id}) ensured`);
  }
}
