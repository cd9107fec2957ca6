import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { SignupDto } from './auth.dto';

const valid = {
  email: 'jane@example.com',
  password: 'Sup3r$ecret',
  confirm: 'Sup3r$ecret',
  nickname: 'jane',
};

function failures(body: Record<string, unknown>): string[] {
  return validateSync(plainToInstance(SignupDto, body)).map((e) => e.property);
}

describe('SignupDto', () => {
  it('accepts a valid signup, unicode nicknames included', () => {
    assert.deepEqual(failures(valid), []);
    assert.deepEqual(failures({ ...valid, nickname: '김민수😀' }), []);
    assert.deepEqual(failures({ ...valid, nickname: 'abcdefghij' }), []);
  });

  for (const [why, password] of [
    ['too short', 'Aa1!aaa'],
    ['no upper-case', 'sup3r$ecret'],
    ['no lower-case', 'SUP3R$ECRET'],
    ['no digit', 'Super$ecret'],
    ['no symbol', 'Sup3rSecret'],
  ]) {
    it(`refuses a password with ${why}`, () => {
      assert.deepEqual(failures({ ...valid, password, confirm: password }), ['password']);
    });
  }

  it('refuses a confirm that differs', () => {
    assert.deepEqual(failures({ ...valid, confirm: 'Sup3r$ecreT' }), ['confirm']);
  });

  it('refuses bad emails and nicknames', () => {
    assert.deepEqual(failures({ ...valid, email: 'not-an-email' }), ['email']);
    assert.deepEqual(failures({ ...valid, email: `${'a'.repeat(250)}@x.io` }), ['email']);
    assert.deepEqual(failures({ ...valid, nickname: '' }), ['nickname']);
    assert.deepEqual(failures({ ...valid, nickname: 'has space' }), ['nickname']);
    assert.deepEqual(failures({ ...valid, nickname: 'abcdefghijk' }), ['nickname']);
  });

  it('refuses wrong types', () => {
    assert.deepEqual(failures({ ...valid, email: 5, nickname: ['x'] }).sort(), [
      'email',
      'nickname',
    ]);
  });
});
