import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { EventBudget, goodsIdOf } from './socket-limits';

describe('EventBudget', () => {
  it('allows a burst of twice the rate, then the rate, and closes a connection that keeps pushing', () => {
    let now = 0;
    const budget = new EventBudget(5, () => now);
    const burst = Array.from({ length: 12 }, () => budget.take());
    assert.deepEqual(burst.slice(0, 10), Array(10).fill('ok'));
    assert.deepEqual(burst.slice(10), ['refuse', 'refuse']);
    now += 1000; // a second refills five
    assert.deepEqual(
      Array.from({ length: 6 }, () => budget.take()),
      ['ok', 'ok', 'ok', 'ok', 'ok', 'refuse'],
    );
    const pushing = Array.from({ length: 60 }, () => budget.take());
    assert.equal(pushing.at(-1), 'close');
    assert.equal(pushing.indexOf('close'), 49); // the 51st refusal in a row
  });
});

describe('goodsIdOf', () => {
  it('takes JSON integers only', () => {
    assert.equal(goodsIdOf({ goodsId: 7 }), 7);
    for (const goodsId of ['7', '1e3', 7.5, 0, -1, 2 ** 31, Number.NaN, null, [7], { n: 7 }]) {
      assert.equal(goodsIdOf({ goodsId }), undefined, JSON.stringify(goodsId));
    }
    assert.equal(goodsIdOf(null), undefined);
    assert.equal(goodsIdOf('7'), undefined);
  });
});
