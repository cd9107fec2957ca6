import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { containsNul } from './hostile-input';

describe('containsNul', () => {
  it('finds NUL anywhere, keys included', () => {
    assert.equal(containsNul('a\u0000b'), true);
    assert.equal(containsNul({ a: [{ b: 'x\u0000' }] }), true);
    assert.equal(containsNul({ ['k\u0000']: 1 }), true);
  });
  it('passes ordinary input, unicode included', () => {
    assert.equal(containsNul({ title: '공연 🎫', n: 1, list: [null, true] }), false);
    assert.equal(containsNul(undefined), false);
  });
  it('treats absurd nesting as hostile', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 100; i++) {
      deep = [deep];
    }
    assert.equal(containsNul(deep), true);
  });
});
