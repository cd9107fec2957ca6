import { Body, Controller, Get, Header, HttpCode, Post, Res, UseGuards } from '@nestjs/common';
import { Ip } from '@nestjs/common';
import {
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { PRIVATE_NO_STORE } from '../common/cache-control';
import { ErrorBodyDto } from '../common/error-body.dto';
import { AppConfig } from '../config/app-config';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { UserDto } from '../users/user.dto';
import { LoginDto, SignupDto, TokenDto } from './auth.dto';
import { Auth, AuthUser, Authenticated } from './auth-user';
import { AuthService } from './auth.service';
import { AUTH_COOKIE } from './jwt-auth.guard';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
  ) {}

  @Post('signup')
  @HttpCode(201)
  @UseGuards(RateLimitGuard)
  @ApiOperation({ summary: 'Create an account (role user)' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiConflictResponse({ type: ErrorBodyDto, description: 'EMAIL_TAKEN or NICKNAME_TAKEN' })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'RATE_LIMITED, with Retry-After' })
  signup(@Body() dto: SignupDto): Promise<UserDto> {
    return this.auth.signup(dto);
  }

  @Post('login')
  @Header('Cache-Control', PRIVATE_NO_STORE)
  @HttpCode(200)
  @UseGuards(RateLimitGuard)
  @ApiOperation({ summary: 'Log in: returns a token and sets the httpOnly Authorization cookie' })
  @ApiOkResponse({ type: TokenDto })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'RATE_LIMITED, with Retry-After' })
  async login(
    @Body() dto: LoginDto,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenDto> {
    const token = await this.auth.login(dto, ip);
    void reply.setCookie(AUTH_COOKIE, token.accessToken, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.isProduction,
      path: '/',
      maxAge: this.config.jwtExpiresInSeconds,
    });
    return token;
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({ summary: 'Clear the Authorization cookie' })
  @ApiNoContentResponse()
  logout(@Res({ passthrough: true }) reply: FastifyReply): void {
    void reply.clearCookie(AUTH_COOKIE, { path: '/' });
  }

  @Get('me')
  @Header('Cache-Control', PRIVATE_NO_STORE)
  @Authenticated()
  @ApiOperation({ summary: 'The caller' })
  @ApiOkResponse({ type: UserDto })
  me(@Auth() who: AuthUser): Promise<UserDto> {
    return this.auth.me(who);
  }
}
