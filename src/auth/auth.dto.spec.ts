import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';

import { SignupDto } from './auth.dto';
import { PasswordProblem } from '../passwords/password-policy';

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

  it('accepts a passphrase and any mix of characters, with no composition rules', () => {
    for (const password of [
      'correct horse battery staple is long',
      'alllowercaseletters',
      '비밀번호는길수록좋아요',
      'kite-7m😀', // 8 characters, 9 UTF-16 units
      'quiet river '.repeat(10) + 'stone ya', // 128 characters, not a repeat of 1–4
    ]) {
      assert.deepEqual(failures({ ...valid, password, confirm: password }), [], password);
    }
  });

  for (const [password, code] of [
    ['Aa1!aaa', PasswordProblem.TooShort],
    ['😀'.repeat(7), PasswordProblem.TooShort], // 7 characters, 14 UTF-16 units
    ['z'.repeat(129), PasswordProblem.TooLong],
    ['Password1!', PasswordProblem.TooCommon],
    ['P@ssw0rd', PasswordProblem.TooCommon],
    ['Qwerty1!', PasswordProblem.TooCommon],
    ['!!dragon2024', PasswordProblem.TooCommon],
    // Predictable, though on no leaked list (issue 23, L6).
    ['aaaaaaaa', PasswordProblem.TooPredictable],
    ['y'.repeat(128), PasswordProblem.TooPredictable],
    ['abcabcabcabc', PasswordProblem.TooPredictable],
    ['abcdefgh', PasswordProblem.TooPredictable],
    ['98765432!', PasswordProblem.TooPredictable],
    ['ticketnest', PasswordProblem.TooPredictable],
    ['ticketnest123', PasswordProblem.TooPredictable],
    ['My Ticket-Nest 2027!', PasswordProblem.TooPredictable],
    ['my-jane-is-great', PasswordProblem.ContainsIdentity], // the nickname
    ['JANE@EXAMPLE.COM!', PasswordProblem.ContainsIdentity], // the email
  ] as const) {
    it(`refuses ${password.slice(0, 16)} as ${code}`, () => {
      const errors = validateSync(
        plainToInstance(SignupDto, { ...valid, password, confirm: password }),
      );
      assert.deepEqual(
        errors.map((e) => [e.property, Object.values(e.contexts ?? {}).map((c) => c.code)]),
        [['password', [code]]],
      );
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
