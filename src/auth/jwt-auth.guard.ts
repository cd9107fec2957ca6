import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { Role } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import type { AuthUser } from './auth-user';
import { TokenService } from './token.service';

export const AUTH_COOKIE = 'Authorization';
export const ROLES_KEY = 'roles';

/** Bearer header first, then the httpOnly cookie (either 'token' or 'Bearer token'). */
export function extractToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+\S+$/i.test(header)) {
    return header.replace(/^Bearer\s+/i, '');
  }
  const cookie = request.cookies?.[AUTH_COOKIE];
  if (typeof cookie === 'string' && cookie.length > 0) {
    return cookie.replace(/^Bearer\s+/i, '');
  }
  return undefined;
}

@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
    private readonly users: UsersRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const token = extractToken(request);
    const user = token === undefined ? undefined : this.tokens.verify(token);
    if (!user) {
      throw new AppError(ErrorCode.Unauthorized);
    }
    const required = this.reflector.get<Role[] | undefined>(ROLES_KEY, context.getHandler()) ?? [];
    if (required.length > 0) {
      // Roles change (an admin demotes a host): trust the database, not the token's copy.
      const role = await this.users.getRole(user.id);
      if (role === undefined) {
        throw new AppError(ErrorCode.Unauthorized);
      }
      if (!required.includes(role)) {
        throw new AppError(ErrorCode.Forbidden);
      }
      user.role = role;
    }
    request.user = user;
    return true;
  }
}
