import { useEffect, useState } from 'react';

import { api, call } from '../api/client';
import { ServerClock } from './server-clock';

/** This page's view of the server's clock, synced once at start (GET /api/time). */
export const serverClock = new ServerClock();

export const clockReady: Promise<void> = serverClock
  .sync(async () => (await call(api.GET('/api/time'))).now)
  .catch(() => undefined); // unreachable server: the local clock, and the server still decides

/** The server's time now, re-rendered every `everyMs`. */
export function useServerNow(everyMs = 250): number {
  const [now, setNow] = useState(() => serverClock.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(serverClock.now()), everyMs);
    void clockReady.then(() => setNow(serverClock.now()));
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}
