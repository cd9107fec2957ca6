/**
 * A token bucket per connection: `perSecond` events a second, bursts of twice that. An
 * event past it is refused (RATE_LIMITED); a connection that keeps sending far past it
 * (ten seconds' worth refused in a row) is closed.
 */
export class EventBudget {
  private tokens: number;
  private last: number;
  private refusedInARow = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = 2 * perSecond;
    this.last = now();
  }

  /** 'ok', 'refuse' (answer RATE_LIMITED) or 'close' (disconnect). */
  take(): 'ok' | 'refuse' | 'close' {
    const now = this.now();
    this.tokens = Math.min(
      2 * this.perSecond,
      this.tokens + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.refusedInARow = 0;
      return 'ok';
    }
    this.refusedInARow += 1;
    return this.refusedInARow > 10 * this.perSecond ? 'close' : 'refuse';
  }
}

/** A goods id as a client must send it: a JSON integer, not "1e3", "7" or 7.5. */
export function goodsIdOf(body: unknown): number | undefined {
  const id = (body as { goodsId?: unknown } | null)?.goodsId;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 1 && id <= 2_147_483_647
    ? id
    : undefined;
}
