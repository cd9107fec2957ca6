import {
  applyDecorators,
  createParamDecorator,
  ExecutionContext,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCookieAuth,
  ApiForbiddenResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';

import { ErrorBodyDto } from '../common/error-body.dto';
import { Role } from '../users/user.entity';
import type { AuthUser } from './auth-user.type';
import { JwtAuthGuard, ROLES_KEY } from './jwt-auth.guard';

export type { AuthUser } from './auth-user.type';

/** Require a valid token; with roles, also require one of them (checked against the database). */
export function Authenticated(...roles: Role[]) {
  const decorators = [
    SetMetadata(ROLES_KEY, roles),
    UseGuards(JwtAuthGuard),
    ApiBearerAuth(),
    ApiCookieAuth('Authorization'),
    ApiUnauthorizedResponse({
      type: ErrorBodyDto,
      description: 'missing, invalid or expired token',
    }),
  ];
  if (roles.length > 0) {
    decorators.push(
      ApiForbiddenResponse({
        type: ErrorBodyDto,
        description: `requires role ${roles.join(' or ')}`,
      }),
    );
  }
  return applyDecorators(...decorators);
}

export const Auth = createParamDecorator(
  (_: unknown, ctx: ExecutionContext): AuthUser =>
    ctx.switchToHttp().getRequest<{ user: AuthUser }>().user,
);
