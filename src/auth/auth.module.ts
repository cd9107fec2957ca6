import { Global, Module } from '@nestjs/common';

import { UsersController } from './users.controller';
import { UsersRepository } from '../users/users.repository';
import { UsersService } from './users.service';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { Revocations } from './revocations';
import { TokenService } from './token.service';

/** Users and authentication; global so any module can guard its routes. */
@Global()
@Module({
  controllers: [AuthController, UsersController],
  providers: [
    AuthService,
    UsersService,
    UsersRepository,
    PasswordHasher,
    TokenService,
    Revocations,
    LoginLimiter,
    JwtAuthGuard,
  ],
  exports: [TokenService, Revocations, JwtAuthGuard, UsersRepository, PasswordHasher],
})
export class AuthModule {}
