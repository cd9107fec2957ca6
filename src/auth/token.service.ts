import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';

import { AppConfig } from '../config/app-config';
import { Role } from '../users/user.entity';
import { AuthUser } from './auth-user';

interface Claims {
  sub: string;
  role: Role;
}

const roles = new Set<string>(Object.values(Role));

/** HS256 only: `alg: none`, RS256 and friends are refused by the pinned algorithm list. */
@Injectable()
export class TokenService {
  constructor(
    private readonly jwt: JwtService,
    private readonly config: AppConfig,
  ) {}

  sign(user: AuthUser): string {
    return this.jwt.sign({ sub: String(user.id), role: user.role } satisfies Claims, {
      algorithm: 'HS256',
      secret: this.config.jwtSecret,
      expiresIn: this.config.jwtExpiresInSeconds,
    });
  }

  /** The caller, or undefined for any token that is not ours, not HS256, or expired. */
  verify(token: string): AuthUser | undefined {
    try {
      const claims = this.jwt.verify<Claims>(token, {
        algorithms: ['HS256'],
        secret: this.config.jwtSecret,
      });
      const id = Number(claims.sub);
      if (!Number.isSafeInteger(id) || id < 1 || !roles.has(claims.role)) {
        return undefined;
      }
      return { id, role: claims.role };
    } catch {
      return undefined;
    }
  }
}
