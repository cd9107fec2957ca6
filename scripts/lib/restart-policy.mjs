// One rule for bringing a dead service process back, for `npm start` (its API) and the
// cluster's supervisor (its APIs and writers): wait 1 s, then twice as long after each death
// that follows soon after a start (a crash loop must not spin a core), at most 30 s; a process
// that ran a minute starts the count again.
export const RESTART = { firstMs: 1000, maxMs: 30_000, steadyMs: 60_000 };

export class RestartPolicy {
  constructor(now = Date.now) {
    this.now = now;
    this.restarts = 0;
    this.inARow = 0;
  }

  /** A process started at `startedAt` died: the ms to wait before starting it again. */
  died(startedAt) {
    if (this.now() - startedAt >= RESTART.steadyMs) {
      this.inARow = 0;
    }
    const wait = Math.min(RESTART.maxMs, RESTART.firstMs * 2 ** this.inARow);
    this.inARow += 1;
    this.restarts += 1;
    return wait;
  }
}
