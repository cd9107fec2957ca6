import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';

import fastifyCookie from '@fastify/cookie';
import { Logger, ValidationError, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import {
  FastifyError,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
  LogController,
} from 'fastify';
import type { Logger as Pino } from 'pino';

import { AppModule } from './app.module';
import { authCookie, credentialOf } from './auth/jwt-auth.guard';
import { TokenService } from './auth/token.service';
import { bookingFastPaths } from './booking/booking.fast-path';
import { BookingService } from './booking/booking.service';
import { FastRoutes, registerFastPaths } from './common/fast-path';
import { goodsFastPaths } from './goods/goods.fast-path';
import { GoodsService } from './goods/goods.service';
import { AppError } from './common/app-error';
import { ErrorCode, FieldError } from './common/error-codes';
import { refuseHostileInput } from './common/hostile-input';
import { HttpExceptionFilter, replyWithError } from './common/http-exception.filter';
import { clientErrorHandler, refuseExpectation } from './common/client-errors';
import { securityHeaders } from './common/security-headers';
import { AppConfig } from './config/app-config';
import { projectRoot } from './config/project-root';
import { RedisIoAdapter } from './realtime/redis-io.adapter';
import { Role } from './users/user.entity';
import { UsersRepository } from './users/users.repository';
import { serveWebApp } from './web/web-app';
import { instrumentHttp } from './telemetry/metrics';
import { createPino, PinoNestLogger } from './telemetry/logger';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** `isEmail` → `IS_EMAIL`; a constraint already named by its code keeps it. */
const codeOfConstraint = (name: string): string =>
  name === 'whitelistValidation'
    ? 'UNKNOWN_FIELD'
    : name.replace(/([a-z\d])([A-Z])/g, '$1_$2').toUpperCase();

/** A field name fit to repeat back: an unknown one comes from the client. */
const SAFE_FIELD = /^[A-Za-z_][\w.]{0,63}$/;

/** Flatten class-validator errors into one problem per field and rule, nested paths included. */
function describe(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const field = SAFE_FIELD.test(path) ? path : '(a field with an unusual name)';
    const own = Object.entries(e.constraints ?? {}).map(([name, message]) => ({
      field,
      code: (e.contexts?.[name] as { code?: string } | undefined)?.code ?? codeOfConstraint(name),
      message: name === 'whitelistValidation' ? `${field} is not an accepted field` : message,
    }));
    return [...own, ...describe(e.children ?? [], path)];
  });
}

export function buildOpenApi(app: NestFastifyApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('TicketNest API')
    .setDescription(
      'Ticket booking for the on-sale rush. Errors are `{statusCode, code, message}` with a stable `code`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth()
    .addCookieAuth('Authorization')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Trust the `hops` proxies nearest to us, as TRUST_PROXY=<n> says. */
const trustHops =
  (hops: number) =>
  (_address: string, hop: number): boolean =>
    hop < hops;

/** API_DOCS=admin: Swagger UI and its document only for an admin (token or cookie). */
function guardApiDocs(app: NestFastifyApplication, config: AppConfig): void {
  const fastify = app.getHttpAdapter().getInstance();
  const cookie = authCookie(config);
  const tokens = app.get(TokenService);
  const users = app.get(UsersRepository);
  const logger = new Logger('ApiDocs');
  fastify.addHook('onRequest', async (request, reply) => {
    // The route the router chose, not the URL's text: the router decodes `/api/%64ocs-json`
    // to the docs' route, which a prefix test on the raw URL let through (issue 23, M2).
    if (!request.routeOptions.url?.startsWith('/api/docs')) {
      return;
    }
    const token = credentialOf(request, cookie)?.token;
    const user = token === undefined ? undefined : tokens.verify(token);
    const role = user && (await users.getRole(user.id));
    if (role !== Role.Admin) {
      replyWithError(
        logger,
        request,
        reply,
        new AppError(role === undefined ? ErrorCode.Unauthorized : ErrorCode.Forbidden),
      );
      return reply;
    }
  });
}

/** Every fast path of the application (common/fast-path.ts). */
export function fastRoutesOf(app: NestFastifyApplication): FastRoutes {
  return {
    ...bookingFastPaths(app.get(BookingService), app.get(TokenService)),
    ...goodsFastPaths(app.get(GoodsService)),
  };
}

/**
 * The whole HTTP application, configured the same way for `npm start`, tests and the
 * benchmark. The caller decides whether and where to listen.
 */
export async function createApp(
  bootConfig: AppConfig,
  options: { pino?: Pino } = {},
): Promise<NestFastifyApplication> {
  const pino = options.pino ?? createPino(bootConfig.logLevel);
  const harden = securityHeaders(bootConfig);
  const errorLogger = new Logger('HttpExceptionFilter');
  const adapter = new FastifyAdapter({
    loggerInstance: pino,
    // One access-log pair per request costs real CPU in a rush: only at LOG_LEVEL=debug/trace.
    logController: new LogController({
      disableRequestLogging: bootConfig.logLevel !== 'debug' && bootConfig.logLevel !== 'trace',
    }),
    bodyLimit: bootConfig.bodyLimitBytes,
    // A request (headers and body) must arrive within REQUEST_TIMEOUT: a body sent a byte at a
    // time would otherwise hold its socket for ever (Node's default is no limit once the
    // headers are in). Answers themselves may take longer (Prefer: wait).
    requestTimeout: bootConfig.requestTimeoutMs,
    // (Node checks the timeout every connectionsCheckingInterval: 30 s by default, 1 s here.)
    // Missing Host is refused by refuseHostileInput, with a code; Node's own refusal has no body.
    http: {
      connectionsCheckingInterval: Math.min(1000, bootConfig.requestTimeoutMs),
      requireHostHeader: false,
    },
    clientErrorHandler,
    // The router's refusals (a bad URL, an over-long parameter) come before any hook.
    frameworkErrors: ((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      harden(request.raw, reply.raw);
      void reply.header('x-request-id', request.id);
      replyWithError(errorLogger, request, reply, error);
    }) as FastifyServerOptions['frameworkErrors'],
    // A hop count as the function proxy-addr makes of one (Nest's adapter types no number).
    trustProxy:
      typeof bootConfig.trustProxy === 'number'
        ? trustHops(bootConfig.trustProxy)
        : bootConfig.trustProxy,
    requestIdHeader: false,
    genReqId: (req: IncomingMessage) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.register(bootConfig),
    adapter,
    {
      logger: new PinoNestLogger(pino),
      bufferLogs: false,
    },
  );
  const fastify = app.getHttpAdapter().getInstance();
  // Node enforces requestTimeout only while headersTimeout is no longer (set after the
  // server is made, it keeps its 60 s default otherwise).
  fastify.server.headersTimeout = Math.min(60_000, bootConfig.requestTimeoutMs);
  fastify.server.on('checkExpectation', refuseExpectation);
  await app.register(fastifyCookie);
  // One hook for both: every hook is a step of every request of a rush.
  fastify.addHook('onRequest', (request, reply, done) => {
    harden(request.raw, reply.raw);
    void reply.header('x-request-id', request.id);
    done();
  });
  instrumentHttp(fastify);
  refuseHostileInput(fastify);

  if (bootConfig.fastPath && bootConfig.servesHttp) {
    registerFastPaths(fastify, fastRoutesOf(app));
  }
  if (bootConfig.servesHttp) {
    await serveWebApp(fastify, join(projectRoot(), 'dist', 'public'));
  }

  app.useWebSocketAdapter(new RedisIoAdapter(app, bootConfig.redisUrl, bootConfig.redisKeyPrefix));
  app.useGlobalFilters(new HttpExceptionFilter());
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      stopAtFirstError: false,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => AppError.invalid(describe(errors)),
    }),
  );
  if (bootConfig.apiDocs !== 'off') {
    if (bootConfig.apiDocs === 'admin') {
      guardApiDocs(app, bootConfig);
    }
    SwaggerModule.setup('api/docs', app, () => buildOpenApi(app), {
      jsonDocumentUrl: 'api/docs-json',
    });
  }
  app.enableShutdownHooks();
  return app;
}
