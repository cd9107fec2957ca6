import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';

import jwt from 'jsonwebtoken';

import { AppConfig } from '../config/app-config';
import { parseEnv } from '../config/env.schema';
import { Role } from '../users/user.entity';
import type { Session } from './revocations';
import { TokenService } from './token.service';

const secret = 'unit-test-secret-0123456789-0123456789';
const config = new AppConfig(
  parseEnv({
    DATABASE_URL: 'postgres://x@h/db',
    REDIS_URL: 'redis://h',
    JWT_SECRET: secret,
    JWT_EXPIRES_IN: '1h',
  }),
);
/** Revocations' check, in memory: what Redis would have told this instance. */
class FakeRevocations {
  readonly jtis = new Set<string>();
  readonly generations = new Map<number, number>();
  isRevoked(session: Session): boolean {
    return (
      (session.jti !== undefined && this.jtis.has(session.jti)) ||
      (this.generations.get(session.userId) ?? 0) > session.generation
    );
  }
}
const tokens = new TokenService(config, new FakeRevocations());

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);
/** An HS256 token over any claims, signed by hand (jsonwebtoken refuses to sign odd ones). */
const signed = (claims: object, header: unknown = { alg: 'HS256', typ: 'JWT' }) => {
  const h = Buffer.from(JSON.stringify(header)).toString('base64url');
  const body = b64(claims);
  return `${h}.${body}.${createHmac('sha256', secret).update(`${h}.${body}`).digest('base64url')}`;
};

describe('TokenService', () => {
  it('round-trips a user and sets exp from JWT_EXPIRES_IN', () => {
    const token = tokens.sign({ id: 7, role: Role.Host });
    assert.deepEqual(tokens.verify(token), { id: 7, role: Role.Host });
    const claims = jwt.decode(token) as { exp: number; iat: number };
    assert.equal(claims.exp - claims.iat, 3600);
    assert.equal(
      (jwt.decode(token, { complete: true }) as { header: { alg: string } }).header.alg,
      'HS256',
    );
  });

  it("refuses alg 'none'", () => {
    const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: '1', role: 'admin', exp: now() + 60 })}.`;
    assert.equal(tokens.verify(token), undefined);
  });

  it('refuses another HMAC algorithm with the right secret', () => {
    const token = jwt.sign({ sub: '1', role: 'admin' }, secret, {
      algorithm: 'HS512',
      expiresIn: 60,
    });
    assert.equal(tokens.verify(token), undefined);
  });

  it('refuses an RS256 token', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = jwt.sign({ sub: '1', role: 'admin' }, privateKey, {
      algorithm: 'RS256',
      expiresIn: 60,
    });
    assert.equal(tokens.verify(token), undefined);
  });

  it('refuses a bad signature and a past exp', () => {
    const forged = jwt.sign({ sub: '1', role: 'admin' }, 'another-secret', {
      algorithm: 'HS256',
      expiresIn: 60,
    });
    assert.equal(tokens.verify(forged), undefined);
    const expired = jwt.sign({ sub: '1', role: 'admin', exp: now() - 10 }, secret, {
      algorithm: 'HS256',
    });
    assert.equal(tokens.verify(expired), undefined);
  });

  it('refuses a correctly signed token without an expiry', () => {
    const forever = jwt.sign({ sub: '1', role: 'admin' }, secret, { algorithm: 'HS256' });
    assert.equal(tokens.verify(forever), undefined);
  });

  it('refuses a remembered token once it expires', () => {
    const token = jwt.sign({ sub: '3', role: 'user', exp: now() + 2 }, secret, {
      algorithm: 'HS256',
    });
    assert.deepEqual(tokens.verify(token), { id: 3, role: Role.User });
    assert.deepEqual(tokens.verify(token), { id: 3, role: Role.User });
    const realNow = Date.now;
    Date.now = () => realNow() + 3000;
    try {
      assert.equal(tokens.verify(token), undefined);
    } finally {
      Date.now = realNow;
    }
  });

  it('a remembered token never answers for a tampered copy', () => {
    const token = tokens.sign({ id: 5, role: Role.User });
    assert.deepEqual(tokens.verify(token), { id: 5, role: Role.User });
    const [h, , sig] = token.split('.');
    const body = b64({ sub: '5', role: 'admin', exp: now() + 60 });
    assert.equal(tokens.verify(`${h}.${body}.${sig}`), undefined);
  });

  it('agrees with jsonwebtoken on well-formed, tampered and re-spelled tokens', () => {
    const fresh = new TokenService(config, new FakeRevocations()); // nothing remembered: every answer is a verification
    const good = jwt.sign({ sub: '9', role: 'user', exp: now() + 60 }, secret, {
      algorithm: 'HS256',
    });
    const [h, p, sig] = good.split('.');
    const flip = (text: string, at: number) =>
      text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);
    const cases: Record<string, string> = {
      good,
      'payload changed': `${h}.${flip(p, 3)}.${sig}`,
      'header changed': `${flip(h, 2)}.${p}.${sig}`,
      'signature changed': `${h}.${p}.${flip(sig, 10)}`,
      'signature padded': `${good}=`,
      'signature in standard base64': `${h}.${p}.${Buffer.from(sig, 'base64url').toString('base64')}`,
      'signature truncated': good.slice(0, -1),
      'two parts': `${h}.${p}`,
      'four parts': `${good}.${sig}`,
      'empty header': `.${p}.${sig}`,
      'not yet valid': jwt.sign(
        { sub: '9', role: 'user', exp: now() + 60, nbf: now() + 30 },
        secret,
        {
          algorithm: 'HS256',
        },
      ),
      'exp not a number': signed({ sub: '9', role: 'user', exp: String(now() + 60) }),
      'payload not JSON': (() => {
        const body = Buffer.from('{"sub":"9",').toString('base64url');
        const mac = createHmac('sha256', secret).update(`${h}.${body}`).digest('base64url');
        return `${h}.${body}.${mac}`;
      })(),
    };
    for (const [name, token] of Object.entries(cases)) {
      let theirs: boolean;
      try {
        jwt.verify(token, secret, { algorithms: ['HS256'] });
        theirs = true;
      } catch {
        theirs = false;
      }
      assert.equal(fresh.verify(token) !== undefined, theirs, name);
      assert.equal(theirs, name === 'good', `jsonwebtoken on ${name}`);
    }
  });

  it('refuses a signature spelled with characters outside base64url that encode to the same bytes', () => {
    const fresh = new TokenService(config, new FakeRevocations());
    const token = jwt.sign({ sub: '9', role: 'user', exp: now() + 60 }, secret, {
      algorithm: 'HS256',
    });
    const at = token.lastIndexOf('.') + 1;
    // U+0141 is 0x41 ('A') once narrowed to latin1, U+0142 is 0x42 ('B')
    const wide = String.fromCharCode(token.charCodeAt(at) + 0x100);
    assert.equal(fresh.verify(token.slice(0, at) + wide + token.slice(at + 1)), undefined);
    assert.deepEqual(fresh.verify(token), { id: 9, role: Role.User });
  });

  it('refuses a header with crit, or with no alg', () => {
    const claims = { sub: '1', role: 'user', exp: now() + 60 };
    assert.deepEqual(tokens.verify(signed(claims)), { id: 1, role: Role.User });
    for (const header of [{ alg: 'HS256', crit: ['b64'], b64: false }, { typ: 'JWT' }, 'HS256']) {
      assert.equal(tokens.verify(signed(claims, header)), undefined, JSON.stringify(header));
    }
  });

  it('refuses a correctly signed token with bad claims', () => {
    const header = b64({ alg: 'HS256', typ: 'JWT' });
    for (const claims of [
      { sub: 'x', role: 'user' },
      { sub: '1', role: 'root' },
      { sub: '0', role: 'user' },
      { sub: 1, role: 'user' },
      { sub: '1.5', role: 'user' },
    ]) {
      const body = b64({ ...claims, exp: now() + 60 });
      const sig = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
      assert.equal(tokens.verify(`${header}.${body}.${sig}`), undefined, JSON.stringify(claims));
    }
  });

  it("refuses a logged-out token and tokens older than the user's generation, cached or not", () => {
    const revocations = new FakeRevocations();
    const service = new TokenService(config, revocations);
    const user = { id: 41, role: Role.User };
    const [a, b] = [service.sign(user), service.sign(user)];
    assert.deepEqual(service.verify(a), user); // now cached as verified
    const jti = service.inspect(a)!.jti!;
    revocations.jtis.add(jti);
    assert.equal(service.verify(a), undefined, 'the cached token is revoked');
    assert.deepEqual(service.verify(b), user, 'another session of the same user is not');
    revocations.generations.set(41, 1);
    assert.equal(service.verify(b), undefined, 'a password change ends every older session');
    const after = service.sign(user, 1);
    assert.deepEqual(service.verify(after), user);
    // Seen by a process that never signed them: the same answers.
    const other = new TokenService(config, revocations);
    assert.deepEqual(
      [a, b, after].map((t) => other.verify(t)?.id),
      [undefined, undefined, 41],
    );
    // A token signed before revocation existed (no jti, no gen) counts as generation 0.
    const old = signed({ sub: '42', role: Role.User, iat: now(), exp: now() + 60 });
    assert.equal(other.verify(old)?.id, 42);
    revocations.generations.set(42, 1);
    assert.equal(other.verify(old), undefined);
  });
});
