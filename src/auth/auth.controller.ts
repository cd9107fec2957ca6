import { Body, Controller, Get, Header, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import { Ip } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiForbiddenResponse,
  ApiServiceUnavailableResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';

import { AppError } from '../common/app-error';
import { PRIVATE_NO_STORE } from '../common/cache-control';
import { ErrorBodyDto } from '../common/error-body.dto';
import { ErrorCode } from '../common/error-codes';
import { AppConfig } from '../config/app-config';
import { RateLimitGuard } from '../rate-limit/rate-limit.guard';
import { UserDto } from '../users/user.dto';
import { ChangePasswordDto, LoginDto, SessionDto, SignupDto, TokenDto } from './auth.dto';
import { Auth, AuthUser, Authenticated } from './auth-user';
import { AuthService } from './auth.service';
import { assertNotCrossSite, authCookie, credentialOf } from './jwt-auth.guard';
import { TokenService } from './token.service';

/** The login device cookie (LoginLimiter.deviceToken), kept a year. */
const DEVICE_COOKIE = 'TN-Login-Device';
const DEVICE_COOKIE_SECONDS = 365 * 24 * 3600;

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
  ) {}

  @Post('signup')
  @HttpCode(201)
  @Header('Cache-Control', PRIVATE_NO_STORE)
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
  @ApiOperation({
    summary:
      'Log in: returns a token and sets the httpOnly Authorization cookie, and a device cookie that spares this browser the delay an account gets after failed logins',
  })
  @ApiOkResponse({ type: TokenDto })
  @ApiUnauthorizedResponse({ type: ErrorBodyDto, description: 'INVALID_CREDENTIALS' })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'RATE_LIMITED, with Retry-After' })
  async login(
    @Body() dto: LoginDto,
    @Ip() ip: string,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenDto> {
    const { accessToken, device } = await this.auth.login(
      dto,
      ip,
      request.cookies?.[DEVICE_COOKIE],
    );
    this.setCookie(reply, accessToken);
    // This browser has logged in to the account: the account-wide delay spares it (M1).
    void reply.setCookie(DEVICE_COOKIE, device, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.isProduction,
      path: '/api/auth',
      maxAge: DEVICE_COOKIE_SECONDS,
    });
    return { accessToken };
  }

  private setCookie(reply: FastifyReply, token: string): void {
    void reply.setCookie(authCookie(this.config), token, {
      httpOnly: true,
      sameSite: 'lax',
      secure: this.config.isProduction,
      path: '/',
      maxAge: this.config.jwtExpiresInSeconds,
    });
  }

  @Post('logout')
  @HttpCode(204)
  @ApiOperation({
    summary:
      'End this session: the token (bearer or cookie) is revoked on every instance and the cookie cleared',
  })
  @ApiNoContentResponse()
  @ApiForbiddenResponse({
    type: ErrorBodyDto,
    description: 'ORIGIN_NOT_ALLOWED (cookie from another site)',
  })
  @ApiServiceUnavailableResponse({
    type: ErrorBodyDto,
    description: 'SERVICE_UNAVAILABLE: Redis away, nothing revoked',
  })
  async logout(
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<void> {
    const credential = credentialOf(request, authCookie(this.config));
    if (credential !== undefined) {
      assertNotCrossSite(request, credential, this.config.publicOrigins);
    }
    await this.auth.logout(credential?.token);
    void reply.clearCookie(authCookie(this.config), {
      path: '/',
      secure: this.config.isProduction,
      httpOnly: true,
      sameSite: 'lax',
    });
  }

  @Post('password')
  @HttpCode(200)
  @Authenticated()
  @UseGuards(RateLimitGuard)
  @ApiOperation({
    summary:
      'Change the password: ends every other session (all earlier tokens), returns a token for this one and sets the cookie',
  })
  @ApiOkResponse({ type: TokenDto })
  @ApiBadRequestResponse({
    type: ErrorBodyDto,
    description:
      'VALIDATION_FAILED: fields name currentPassword (INVALID_CREDENTIALS) or newPassword (PASSWORD_…)',
  })
  @ApiTooManyRequestsResponse({ type: ErrorBodyDto, description: 'RATE_LIMITED, with Retry-After' })
  async changePassword(
    @Auth() who: AuthUser,
    @Body() dto: ChangePasswordDto,
    @Ip() ip: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<TokenDto> {
    const token = await this.auth.changePassword(who, dto, ip);
    this.setCookie(reply, token.accessToken);
    return token;
  }

  @Get('session')
  @Header('Cache-Control', PRIVATE_NO_STORE)
  @ApiOperation({
    summary:
      'Who is logged in, if anyone: `{user}` or `{user: null}`, always 200 (a page asks this at every load)',
  })
  @ApiOkResponse({ type: SessionDto })
  async session(@Req() request: FastifyRequest): Promise<SessionDto> {
    const token = credentialOf(request, authCookie(this.config))?.token;
    const who = token === undefined ? undefined : this.tokens.verify(token);
    if (!who) {
      return { user: null };
    }
    // A valid token for an account that is gone is nobody; any other failure (the database
    // away) is an error, not a silent log-out.
    const user = await this.auth.me(who).catch((error: unknown) => {
      if (error instanceof AppError && error.code === ErrorCode.Unauthorized) {
        return null;
      }
      throw error;
    });
    return { user };
  }

  @Get('me')
  @Authenticated()
  @ApiOperation({ summary: 'The caller' })
  @ApiOkResponse({ type: UserDto })
  me(@Auth() who: AuthUser): Promise<UserDto> {
    return this.auth.me(who);
  }
}
