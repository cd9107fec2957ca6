import fastifyCookie from '@fastify/cookie';
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';

import { AppError } from '../common/app-error';
import { isUnsafeMethod } from '../common/http-methods';
import { AppConfig } from '../config/app-config';
import { ErrorCode } from '../common/error-codes';
import { Role } from '../users/user.entity';
import { UsersRepository } from '../users/users.repository';
import type { AuthUser } from './auth-user.type';
import { fromAllowedOrigin } from './origin-check';
import { TokenService } from './token.service';

export const AUTH_COOKIE = 'Authorization';

/**
 * The session cookie's name: in production `__Host-Authorization`, which a browser keeps only
 * when it was set Secure, with Path=/ and no Domain, by this very host (RFC 6265bis): a
 * sibling subdomain or a plain-HTTP answer cannot plant or shadow it. The unprefixed name is
 * then not read at all. Elsewhere (http://localhost) plain `Authorization`.
 */
export function authCookie(config: AppConfig): string {
  return config.isProduction ? `__Host-${AUTH_COOKIE}` : AUTH_COOKIE;
}
export const ROLES_KEY = 'roles';

/** Where the credential came from: the cookie is the one another site can make a browser send. */
export interface Credential {
  token: string;
  fromCookie: boolean;
}

/** The session cookie's credential (either 'token' or 'Bearer token'), if there is one. */
function cookieCredential(cookie: unknown): Credential | undefined {
  return typeof cookie === 'string' && cookie.length > 0
    ? { token: cookie.replace(/^Bearer\s+/i, ''), fromCookie: true }
    : undefined;
}

/** Bearer header first, then the httpOnly cookie named `cookie` (authCookie). */
export function credentialOf(request: FastifyRequest, cookie: string): Credential | undefined {
  const header = request.headers.authorization;
  if (typeof header === 'string' && /^Bearer\s+\S+$/i.test(header)) {
    return { token: header.replace(/^Bearer\s+/i, ''), fromCookie: false };
  }
  return cookieCredential(request.cookies?.[cookie]);
}

/**
 * The session cookie's credential from a raw `Cookie` header (the realtime handshake), parsed
 * by the parser @fastify/cookie runs on every HTTP request: a bad escape (`%`, `%E0%A4%A`)
 * stays as sent and fails verification; nothing here throws.
 */
export function cookieCredentialOf(
  header: string | undefined,
  cookie: string,
): Credential | undefined {
  return header === undefined ? undefined : cookieCredential(fastifyCookie.parse(header)[cookie]);
}

/**
 * A write carried by the cookie from a page that is not ours is refused (CSRF), before the
 * token is even looked at.
 */
export function assertNotCrossSite(
  request: FastifyRequest,
  credential: Credential,
  publicOrigins: readonly string[] | undefined,
): void {
  if (
    credential.fromCookie &&
    isUnsafeMethod(request.method) &&
    !fromAllowedOrigin(request.headers, publicOrigins)
  ) {
    throw new AppError(ErrorCode.OriginNotAllowed);
  }
}

@Injectable()
export class JwtAuthGuard implements CanActivate {
  constructor(
    private readonly tokens: TokenService,
    private readonly reflector: Reflector,
    private readonly users: UsersRepository,
    private readonly config: AppConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: AuthUser }>();
    const credential = credentialOf(request, authCookie(this.config));
    if (credential !== undefined) {
      assertNotCrossSite(request, credential, this.config.publicOrigins);
    }
    const user = credential === undefined ? undefined : this.tokens.verify(credential.token);
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
