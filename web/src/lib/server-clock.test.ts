import { describe, expect, it } from 'vitest';

import { formatCountdown, secondsLeft } from './countdown';
import { salePhase } from './sale';
import { offsetOf, ServerClock } from './server-clock';

describe('server clock', () => {
  it('takes the offset from the sample with the shortest round trip', () => {
    const offset = offsetOf([
      { sentAt: 1000, receivedAt: 1400, serverNow: 6000 }, // slow: 200 ms either way
      { sentAt: 2000, receivedAt: 2020, serverNow: 7010 }, // fast: the server is 5 s ahead
    ]);
    expect(offset).toBe(5000);
  });

  it('a laptop clock 2 minutes ahead does not open the sale early, one behind does not keep it shut', async () => {
    const serverTime = Date.parse('2027-01-10T11:00:00Z') - 5000; // 5 s before opening
    for (const skew of [+120_000, -120_000]) {
      let local = serverTime + skew;
      const clock = new ServerClock(0, () => local);
      await clock.sync(() => Promise.resolve(serverTime + (local - (serverTime + skew))));
      const goods = { saleStartsAt: '2027-01-10T11:00:00Z', saleEndsAt: null, remaining: 10 };
      expect(salePhase(goods, clock.now()).kind).toBe('upcoming');
      expect(secondsLeft(Date.parse(goods.saleStartsAt), clock.now())).toBe(5);
      local += 5000; // five seconds later, by any clock
      expect(salePhase(goods, clock.now()).kind).toBe('open');
    }
  });
});

describe('countdown', () => {
  it('rounds up and formats hours, minutes and seconds, with days when there are any', () => {
    expect(secondsLeft(10_200, 10_000)).toBe(1);
    expect(secondsLeft(10_000, 12_000)).toBe(0);
    expect(formatCountdown(2 * 3600 + 13 * 60 + 5)).toBe('02:13:05');
    expect(formatCountdown(3 * 86_400 + 59, '일')).toBe('3일 00:00:59');
  });

  it('sale phases: upcoming, open, sold out, closed', () => {
    const base = { saleStartsAt: '2027-01-01T00:00:00Z', saleEndsAt: '2027-01-02T00:00:00Z' };
    const at = (iso: string, remaining = 5) =>
      salePhase({ ...base, remaining }, Date.parse(iso)).kind;
    expect(at('2026-12-31T23:59:59Z')).toBe('upcoming');
    expect(at('2027-01-01T00:00:00Z')).toBe('open');
    expect(at('2027-01-01T12:00:00Z', 0)).toBe('soldOut');
    expect(at('2027-01-02T00:00:00Z')).toBe('closed');
  });
});
