/** One exchange with GET /api/time: when we asked, when the answer came, what it said. */
export interface ClockSample {
  sentAt: number;
  receivedAt: number;
  serverNow: number;
}

/**
 * The server's clock minus ours, from the sample with the shortest round trip (the least
 * room for error): the server read its clock somewhere in the round trip, most likely in
 * its middle (Cristian's algorithm, as NTP does for one sample).
 */
export function offsetOf(samples: readonly ClockSample[]): number {
  if (samples.length === 0) {
    return 0;
  }
  const best = samples.reduce((a, b) =>
    b.receivedAt - b.sentAt < a.receivedAt - a.sentAt ? b : a,
  );
  return best.serverNow - (best.sentAt + best.receivedAt) / 2;
}

/**
 * The server's time as seen from this page. A sale opens by the server's clock: a laptop
 * whose clock runs ahead must not enable Book early (the server would refuse), nor one that
 * runs behind keep it disabled.
 */
export class ServerClock {
  constructor(
    private offsetMs = 0,
    private readonly localNow: () => number = Date.now,
  ) {}

  now(): number {
    return this.localNow() + this.offsetMs;
  }

  get offset(): number {
    return this.offsetMs;
  }

  /** Take `rounds` samples with `ask` (which returns the server's `now`) and keep the best. */
  async sync(ask: () => Promise<number>, rounds = 3): Promise<void> {
    const samples: ClockSample[] = [];
    for (let i = 0; i < rounds; i++) {
      const sentAt = this.localNow();
      const serverNow = await ask();
      samples.push({ sentAt, receivedAt: this.localNow(), serverNow });
    }
    this.offsetMs = offsetOf(samples);
  }
}
