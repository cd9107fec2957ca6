import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

import { z } from 'zod';

import { passwordProblem, passwordProblemMessages } from '../passwords/password-policy';
import { KNOWN_SECRETS } from './known-secrets';

/**
 * Every environment variable the service reads, with its default and a one-line description.
 * Only this folder reads `process.env`; everything else injects the typed `AppConfig`.
 */

const durationPattern = /^(\d+)(ms|s|m|h|d)?$/;
const durationUnitsMs: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** '90' (seconds), '250ms', '15m', '1h', '7d' → milliseconds. */
export function parseDurationMs(value: string): number {
  const match = durationPattern.exec(value.trim());
  if (!match) {
    throw new Error(`invalid duration '${value}'`);
  }
  return Number(match[1]) * durationUnitsMs[match[2] ?? 's'];
}

/** The same, in whole seconds (rounded down). */
export function parseDurationSeconds(value: string): number {
  return Math.floor(parseDurationMs(value) / 1000);
}

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
  );
const duration = z
  .string()
  .refine((v) => durationPattern.test(v.trim()) && parseDurationMs(v) > 0, {
    message: "must be a positive duration such as '3600', '15m', '1h' or '7d'",
  });
/** `https://tickets.example.com` or `http://localhost:5173`: scheme, host, port; no path. */
const origins = z.string().refine(
  (v) =>
    v.split(',').every((o) => {
      try {
        const trimmed = o.trim();
        return (
          ['http:', 'https:'].includes(new URL(trimmed).protocol) &&
          new URL(trimmed).origin === trimmed
        );
      } catch {
        return false;
      }
    }),
  {
    message:
      'must be comma-separated origins such as https://tickets.example.com (no path, no trailing slash)',
  },
);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/** An address, or an address with a prefix length: `10.0.0.0/8`, `fd00::/8`. */
function isAddressOrCidr(text: string): boolean {
  const [address, prefix, ...rest] = text.split('/');
  const version = isIP(address);
  return (
    version !== 0 &&
    rest.length === 0 &&
    (prefix === undefined ||
      (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)))
  );
}

/** TRUST_PROXY: false (no proxy), a hop count, or the proxies' addresses as Fastify takes them. */
const trustedProxies = z
  .string()
  .default('false')
  .transform((v, ctx): false | number | string => {
    const value = v.trim();
    if (value === 'false' || value === '0') {
      return false;
    }
    if (/^\d{1,2}$/.test(value)) {
      return Number(value);
    }
    const list = value.split(',').map((part) => part.trim());
    if (value !== 'true' && list.every(isAddressOrCidr)) {
      return list.join(',');
    }
    ctx.addIssue({
      code: 'custom',
      message:
        value === 'true'
          ? "true trusts every hop, so a client could write its own address: give the proxies' addresses or CIDRs (127.0.0.1) or a hop count (1)"
          : 'must be false, a hop count, or addresses and CIDRs separated by commas',
    });
    return z.NEVER;
  });

export const envVariables = {
  NODE_ENV: {
    schema: z.enum(['development', 'production', 'test']).default('development'),
    description: 'development | production | test; production refuses default secrets',
  },
  PORT: { schema: int(0, 65535).default(3000), description: 'HTTP port of the API' },
  HOST: {
    schema: z.string().min(1).optional(),
    description: 'interface to listen on (default 0.0.0.0 in production, 127.0.0.1 otherwise)',
  },
  DATABASE_URL: {
    schema: url(['postgres:', 'postgresql:']),
    description: 'PostgreSQL connection URL (npm start provides one when unset)',
  },
  DATABASE_READ_URL: {
    schema: url(['postgres:', 'postgresql:']).optional(),
    description:
      'optional read path (a standby, or Pgpool-II with application_name=ticketnest-read) for catalogue reads that miss the cache; an answer is taken from it only once it has replayed the last goods write, else from DATABASE_URL',
  },
  DATABASE_POOL_SIZE: {
    schema: int(1, 200).default(20),
    description: 'PostgreSQL pool size per process',
  },
  REDIS_URL: {
    schema: url(['redis:', 'rediss:']),
    description: 'Redis connection URL (npm start provides one when unset)',
  },
  REDIS_KEY_PREFIX: {
    schema: z
      .string()
      .regex(/^[\w:.-]{1,64}$/)
      .default('tn:'),
    description: 'prefix of every Redis key, so several deployments or test runs share one Redis',
  },
  REDIS_COMMAND_TIMEOUT_MS: {
    schema: int(500, 60_000).default(3000),
    description:
      'how long a Redis command is waited for before the request answers 503: a Redis that accepts connections and never answers (stopped, partitioned) must not hold requests, and a booking admission past it is refused by Redis itself when it wakes. Kept above the longest stall a healthy Redis has (writes held behind a slow AOF fsync: up to 2 s)',
  },
  JWT_SECRET: {
    schema: z.string().min(1).optional(),
    description:
      'HS256 signing secret: required in production (at least 32 characters, 128 bits by length × log2 of its distinct characters, none published in the repository); unset elsewhere, a random one is made once and kept in .data/jwt-secret',
    sensitive: true,
  },
  JWT_EXPIRES_IN: { schema: duration.default('1h'), description: 'access token lifetime' },
  ADMIN_EMAIL: { schema: z.email().optional(), description: 'admin account ensured at start' },
  ADMIN_PASSWORD: {
    schema: z.string().optional(),
    description:
      'password of ADMIN_EMAIL (set both or neither), under the same rules as every password: 8–128 characters, not a common one, not containing the email',
    sensitive: true,
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    description: 'pino log level',
  },
  METRICS_TOKEN: {
    schema: z.string().min(16).optional(),
    description:
      'when set, GET /metrics needs `Authorization: Bearer <token>` (else 401); required in production (none published in the repository); unset elsewhere, /metrics is open: keep it off public interfaces',
    sensitive: true,
  },
  PUBLIC_ORIGIN: {
    schema: origins.optional(),
    description:
      "origins whose pages may use the cookie: cookie-authenticated writes and realtime connections from any other Origin get 403 ORIGIN_NOT_ALLOWED (default: the service's own, by its Host)",
  },
  API_DOCS: {
    schema: z.enum(['public', 'admin', 'off']).optional(),
    description:
      'Swagger UI at /api/docs and the document at /api/docs-json: public, admin (an admin token or cookie), off (404); default public outside production, off in production',
  },
  TRUST_PROXY: {
    schema: trustedProxies,
    description:
      "the proxies in front whose X-Forwarded-For is believed: their addresses or CIDRs, comma-separated (127.0.0.1, 10.0.0.0/8), or a hop count (1); the client is the last address no trusted proxy added. `true` (every hop) is refused: the left-most address is the client's own writing",
  },
  REALTIME_MAX_WATCHES: {
    schema: int(1, 10_000).default(50),
    description:
      'goods one realtime connection may watch at once; past it goods.watch answers WATCH_LIMIT',
  },
  REALTIME_EVENTS_PER_SECOND: {
    schema: int(1, 10_000).default(20),
    description:
      'events a realtime connection may send per second (a burst of twice that); past it RATE_LIMITED, and a connection far past it is closed',
  },
  REALTIME_MAX_CONNECTIONS_PER_USER: {
    schema: int(1, 10_000).default(10),
    description:
      'realtime connections one user may hold on one instance; the oldest is closed when a new one would pass it',
  },
  REQUEST_TIMEOUT: {
    schema: duration.default('10s'),
    description:
      'longest a client may take to send a whole request, headers and body (a slow body is cut off with 408); a proxy in front should enforce its own',
  },
  BODY_LIMIT_BYTES: {
    schema: int(1024, 10 * 1024 * 1024).default(64 * 1024),
    description: 'largest accepted request body; larger gets 413',
  },
  LOGIN_MAX_FAILURES: {
    schema: int(1, 1_000_000).default(10),
    description:
      'failed logins per account from one client address per window before that address gets 429 for that account (other addresses are not affected)',
  },
  LOGIN_MAX_FAILURES_PER_ACCOUNT: {
    schema: int(1, 1_000_000).default(100),
    description:
      'failed logins per account from all addresses per window; past it, addresses that failed for the account get 429 and others one try each (the right password always gets in)',
  },
  LOGIN_MAX_FAILURES_PER_IP: {
    schema: int(1, 1_000_000).default(100),
    description: 'failed logins per client address per window before 429',
  },
  LOGIN_DELAY_AFTER: {
    schema: int(1, 1_000_000).default(5),
    description:
      'failed logins per account from all addresses per window after which the account takes one attempt at a time, each waiting twice as long as the one before (1 s, 2 s, 4 s… up to LOGIN_DELAY_MAX): a guess spread over any number of addresses is slowed as much as one from a single address. A browser the account has logged in from before (its device cookie) is not delayed',
  },
  LOGIN_DELAY_MAX: {
    schema: duration.default('1m'),
    description: 'the longest delay between two attempts on one account (LOGIN_DELAY_AFTER)',
  },
  LOGIN_FAILURE_WINDOW: {
    schema: duration.default('15m'),
    description: 'window of the login failure limits',
  },
  AUTH_RATE_LIMIT_PER_MINUTE: {
    schema: int(1, 1_000_000).default(60),
    description: 'signup and login attempts per client address per minute',
  },
  GOODS_CACHE_TTL: {
    schema: duration.default('5m'),
    description: 'lifetime of cached goods reads',
  },
  INSTANCE_ID: {
    schema: z
      .string()
      .regex(/^[\w.-]{1,64}$/)
      .optional(),
    description:
      'name of this process in metrics (label instance_id on every series) and logs, such as api-1 (default: the host name and pid)',
  },
  METRICS_PORT: {
    schema: int(1, 65535).optional(),
    description:
      'APP_ROLE=writer: serve /metrics and /health/live on this port (a writer has no HTTP port otherwise)',
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: url(['http:', 'https:']).optional(),
    description:
      'OpenTelemetry tracing to this OTLP/HTTP collector (spans go to its /v1/traces: Elastic APM, Jaeger, Tempo…); unset, tracing is off and costs nothing',
  },
  OTEL_SERVICE_NAME: {
    schema: z.string().min(1).max(100).default('ticketnest'),
    description: 'service.name of the spans',
  },
  APP_ROLE: {
    schema: z.enum(['all', 'api', 'writer', 'migrate']).default('all'),
    description:
      'api: HTTP only; writer: booking writer only (`worker`, its old name, is read as writer with a warning); all: both in one process (single node); migrate: apply the migrations (DATABASE_URL as the schema owner) and exit, so the services may run as a role that cannot change the schema',
  },
  BOOKING_STRATEGY: {
    schema: z.enum(['redis', 'pg-lock']).default('redis'),
    description:
      'redis: Lua admission + batched durable writes; pg-lock: one row-locked transaction per booking',
  },
  BOOKING_RATE_LIMIT_PER_SECOND: {
    schema: int(1, 1_000_000).default(10),
    description:
      'booking attempts per user per second, across all instances; a replay of an Idempotency-Key counts too',
  },
  BOOKING_WAITERS_PER_USER: {
    schema: int(1, 10_000).default(5),
    description:
      "booking requests with `Prefer: wait` one user may have waiting at once on one API instance; past it the answer comes at once (202 PENDING, as without the header): a stalled writer cannot make one account hold the instance's connections",
  },
  IDEMPOTENCY_TTL: {
    schema: duration.default('25h'),
    description: 'how long an Idempotency-Key is remembered',
  },
  WRITER_THREAD: {
    schema: bool.default(true),
    description:
      "APP_ROLE=all: run the booking writer in a worker thread of its own (its own event loop and heap), so answers never wait behind a batch or its garbage collection (false: on the API's event loop)",
  },
  WRITER_BATCH_SIZE: {
    schema: int(1, 10_000).default(500),
    description: 'booking log entries per PostgreSQL transaction',
  },
  WRITER_CONCURRENCY: {
    schema: int(1, 64).default(1),
    description: 'batches a writer process writes at once (each loop is a consumer of its own)',
  },
  WRITER_LINGER_MS: {
    schema: int(0, 1000).default(10),
    description:
      'after a batch smaller than WRITER_BATCH_SIZE, wait this long before reading the next: fewer, larger transactions (0: read again at once)',
  },
  WRITER_CLAIM_IDLE: {
    schema: duration.default('10s'),
    description: "after this long a dead writer's unacknowledged entries are claimed by a live one",
  },
  WRITER_MAX_DELIVERIES: {
    schema: int(1, 1000).default(5),
    description:
      'times a booking log entry is delivered to writers (a crash loop redelivers it) before it goes to the dead letters untried',
  },
  WRITER_STALL_AFTER: {
    schema: duration.default('15s'),
    description:
      'readiness reports the booking writer failing when the oldest unwritten booking log entry is older than this',
  },
  GOODS_LOCAL_CACHE_MS: {
    schema: int(0, 60_000).default(200),
    description:
      "how long an API process serves a goods detail from its own memory (0: off); other instances' bookings show within it",
  },
  FAST_PATH: {
    schema: bool.default(true),
    description:
      'answer plain booking and goods-detail requests before the Nest pipeline (false: every request goes through Nest)',
  },
  PG_LOCK_TIMEOUT: {
    schema: duration.default('2s'),
    description: 'pg-lock strategy: lock wait before answering 503 BOOKING_BUSY',
  },
  SEED_DEMO_DATA: {
    schema: bool.default(false),
    description: 'seed a demo admin, host and goods when the database is empty (npm start sets it)',
  },
} as const;

type Vars = typeof envVariables;
export type Env = { [K in keyof Vars]: z.output<Vars[K]['schema']> };

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * `scheme://user:password@host` with the password replaced, in any text: a connection URL
 * refused at start (a wrong scheme, a typo) must not print its password (issue 23, L7).
 * Lenient on purpose: the text is the malformed URL the parser refused.
 */
export function redactCredentials(text: string): string {
  return text.replace(/(\/\/[^/@\s]*?:)[^@\s]*@/g, '$1***@');
}

/**
 * `NAME_FILE=/path` gives NAME the file's contents (one trailing newline dropped): secrets and
 * connection URLs with passwords then live in files of mode 600 (`npm run cluster:up`, compose
 * secrets) instead of in the environment that `ps e` and /proc show. Setting both is an error;
 * a file that cannot be read is named, its contents never are.
 */
function fromFile(
  source: Record<string, string | undefined>,
  name: string,
): { value: string | undefined } | { problem: string } {
  const file = source[`${name}_FILE`];
  if (file === undefined || file === '') {
    return { value: source[name] };
  }
  if (source[name] !== undefined && source[name] !== '') {
    return { problem: `${name} and ${name}_FILE are both set: set one` };
  }
  try {
    return { value: readFileSync(file, 'utf8').replace(/\r?\n$/, '') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { problem: `${name}_FILE cannot be read (${code}: ${file})` };
  }
}

/**
 * Names the writer had before it was called the writer everywhere (issue 24): still read, for
 * one release, with a warning at start (`renamed`). Setting both names is an error.
 */
export const RENAMED_VARIABLES: Readonly<Record<string, keyof typeof envVariables>> = {
  WORKER_BATCH_SIZE: 'WRITER_BATCH_SIZE',
  WORKER_CONCURRENCY: 'WRITER_CONCURRENCY',
  WORKER_LINGER_MS: 'WRITER_LINGER_MS',
  WORKER_CLAIM_IDLE: 'WRITER_CLAIM_IDLE',
  WORKER_MAX_DELIVERIES: 'WRITER_MAX_DELIVERIES',
};

/**
 * The environment with old names read as the new (RENAMED_VARIABLES, `APP_ROLE=worker` as
 * `writer`), and a warning for each; `conflicts` when both names are set.
 */
export function renamed(source: Record<string, string | undefined>): {
  source: Record<string, string | undefined>;
  warnings: string[];
  conflicts: string[];
} {
  const out = { ...source };
  const warnings: string[] = [];
  const conflicts: string[] = [];
  for (const [old, name] of Object.entries(RENAMED_VARIABLES)) {
    if (out[old] === undefined || out[old] === '') {
      continue;
    }
    if (out[name] !== undefined && out[name] !== '') {
      conflicts.push(`${old} and ${name} are both set: ${old} is the old name, keep ${name}`);
    } else {
      out[name] = out[old];
      warnings.push(`${old} is now ${name}: the old name will stop working in a later release`);
    }
    delete out[old];
  }
  if (out.APP_ROLE === 'worker') {
    out.APP_ROLE = 'writer';
    warnings.push(
      'APP_ROLE=worker is now APP_ROLE=writer: the old value will stop working in a later release',
    );
  }
  return { source: out, warnings, conflicts };
}

/** Parse the whole environment; throws one ConfigError naming every bad variable. */
export function parseEnv(given: Record<string, string | undefined>): Env {
  const { source, conflicts } = renamed(given);
  const problems: string[] = [...conflicts];
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(envVariables)) {
    const given = fromFile(source, name);
    if ('problem' in given) {
      problems.push(given.problem);
      continue;
    }
    const raw = given.value;
    const value = raw === undefined || raw === '' ? undefined : raw;
    const parsed = spec.schema.safeParse(value);
    if (parsed.success) {
      out[name] = parsed.data;
    } else {
      const reason =
        value === undefined ? 'is required' : parsed.error.issues.map((i) => i.message).join('; ');
      const shown =
        'sensitive' in spec || value === undefined ? '' : ` (got '${redactCredentials(value)}')`;
      problems.push(`${name} ${reason}${shown}`);
    }
  }
  const env = out as Env;
  if (problems.length === 0) {
    problems.push(...crossChecks(env));
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return env;
}

/**
 * A rough upper bound of a secret's entropy: its length times log2 of its distinct
 * characters. `aaaa…` has none; 32 random base64 characters have about 150 bits by this count.
 */
export function secretBits(secret: string): number {
  const distinct = new Set(secret).size;
  return distinct < 2 ? 0 : secret.length * Math.log2(distinct);
}

/** What production refuses: demo data, and secrets that are missing, weak or public. */
function productionProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.SEED_DEMO_DATA) {
    problems.push(
      'SEED_DEMO_DATA must not be set in production (the demo accounts have public passwords)',
    );
  }
  if (env.JWT_SECRET === undefined) {
    problems.push('JWT_SECRET must be set in production');
  } else if (KNOWN_SECRETS.has(env.JWT_SECRET)) {
    problems.push(
      'JWT_SECRET is one published in the TicketNest repository: make a new one, e.g. `openssl rand -base64 48`',
    );
  } else if (env.JWT_SECRET.length < 32) {
    problems.push('JWT_SECRET must be at least 32 characters in production');
  } else if (secretBits(env.JWT_SECRET) < 128) {
    problems.push(
      'JWT_SECRET is too easy to guess for production (repeated or few distinct characters): use e.g. `openssl rand -base64 48`',
    );
  }
  // An open /metrics tells anyone the sale's numbers and the service's insides (issue 23, M2).
  if (env.METRICS_TOKEN === undefined) {
    problems.push(
      'METRICS_TOKEN must be set in production (Prometheus sends it as a bearer token)',
    );
  } else if (KNOWN_SECRETS.has(env.METRICS_TOKEN)) {
    problems.push('METRICS_TOKEN is one published in the TicketNest repository: make a new one');
  }
  return problems;
}

function crossChecks(env: Env): string[] {
  const problems: string[] = [];
  if ((env.ADMIN_EMAIL === undefined) !== (env.ADMIN_PASSWORD === undefined)) {
    problems.push('ADMIN_EMAIL and ADMIN_PASSWORD must be set together');
  }
  const adminProblem =
    env.ADMIN_PASSWORD === undefined
      ? undefined
      : passwordProblem(env.ADMIN_PASSWORD, { email: env.ADMIN_EMAIL });
  if (adminProblem !== undefined) {
    problems.push(`ADMIN_PASSWORD: ${passwordProblemMessages[adminProblem]}`);
  }
  if (env.NODE_ENV === 'production') {
    problems.push(...productionProblems(env));
  }
  return problems;
}
