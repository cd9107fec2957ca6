import { brotliCompressSync, gzipSync } from 'node:zlib';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import fastifyStatic from '@fastify/static';
import { Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { AppError } from '../common/app-error';
import { ErrorCode } from '../common/error-codes';
import { replyWithError } from '../common/http-exception.filter';

/** Paths that belong to the service, not to the web app: an unknown one is a JSON 404. */
const SERVICE_PATHS = /^\/(api|health|metrics|realtime|socket\.io)(\/|$|\?)/;

/** Fastify's maxParamLength: a longer segment of a service path is 414, as the router says. */
const MAX_PARAM_LENGTH = 100;

/** Hashed file names (Vite's `assets/name-<hash>.js`) never change: cache them for a year. */
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface Page {
  raw: Buffer;
  br: Buffer;
  gzip: Buffer;
}

function pageOf(file: string): Page {
  const raw = readFileSync(file);
  return { raw, br: brotliCompressSync(raw), gzip: gzipSync(raw) };
}

/** The page in the best encoding the client accepts. */
function sendPage(request: FastifyRequest, reply: FastifyReply, page: Page): FastifyReply {
  const accepts = String(request.headers['accept-encoding'] ?? '');
  const [encoding, body] = /\bbr\b/.test(accepts)
    ? ['br', page.br]
    : /\bgzip\b/.test(accepts)
      ? ['gzip', page.gzip]
      : [undefined, page.raw];
  if (encoding) {
    void reply.header('content-encoding', encoding);
  }
  return reply
    .header('vary', 'accept-encoding')
    .header('cache-control', 'no-cache')
    .type('text/html; charset=utf-8')
    .send(body);
}

/**
 * The web app (web/, built by Vite into `dir`) at `/`: its files from disk, as the brotli or
 * gzip copies made at build time when the client takes them, hashed assets cached for a year;
 * `index.html`
 * for every other GET that is not the service's (client routes: history fallback), never
 * cached, so a new release is picked up at the next load. Returns false when there is no
 * build (the API then runs alone; `npm run build` makes one).
 */
export async function serveWebApp(fastify: FastifyInstance, dir: string): Promise<boolean> {
  const index = join(dir, 'index.html');
  if (!existsSync(index)) {
    return false;
  }
  const page = pageOf(index);
  const logger = new Logger('WebApp');
  await fastify.register(fastifyStatic, {
    root: dir,
    prefix: '/',
    // One route per file of the build, found at start: everything else is the fallback's.
    wildcard: false,
    decorateReply: false,
    index: false,
    preCompressed: true,
    setHeaders: (reply, path) =>
      void reply.header('cache-control', path.includes('/assets/') ? IMMUTABLE : 'no-cache'),
  });
  const fallback = (request: FastifyRequest, reply: FastifyReply) => {
    if (SERVICE_PATHS.test(request.url)) {
      // A route whose parameter was too long for the router lands here, as any unknown one.
      const tooLong = request.url
        .split('?')[0]
        .split('/')
        .some((segment) => segment.length > MAX_PARAM_LENGTH);
      const error = new AppError(tooLong ? ErrorCode.UriTooLong : ErrorCode.RouteNotFound);
      replyWithError(logger, request, reply, error);
      return reply;
    }
    return sendPage(request, reply, page);
  };
  fastify.get('/', fallback);
  fastify.get('/*', fallback);
  return true;
}
