import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';

interface Realtime {
  socket: Socket | null;
  /** Connected now: what the server pushes arrives. */
  live: boolean;
}

const RealtimeContext = createContext<Realtime>({ socket: null, live: false });

/**
 * One Socket.IO connection to /realtime while someone is logged in (the cookie is its
 * credential; the server checks the page's Origin). Anonymous visitors have none: their
 * pages poll instead.
 */
export function RealtimeProvider({ userId, children }: { userId?: number; children: ReactNode }) {
  const [realtime, setRealtime] = useState<Realtime>({ socket: null, live: false });
  useEffect(() => {
    if (userId === undefined) {
      return undefined;
    }
    const s = io('/realtime', { transports: ['websocket'], withCredentials: true });
    const track = () => setRealtime({ socket: s, live: s.connected });
    s.on('connect', track);
    s.on('disconnect', track);
    track();
    return () => {
      s.close();
      setRealtime({ socket: null, live: false });
    };
  }, [userId]);
  return <RealtimeContext.Provider value={realtime}>{children}</RealtimeContext.Provider>;
}

export const useRealtime = (): Socket | null => useContext(RealtimeContext).socket;

/** Whether pushes arrive now (false while logged out, connecting or reconnecting). */
export const useRealtimeLive = (): boolean => useContext(RealtimeContext).live;

/**
 * Calls `listener` for every `event` on the connection while mounted. `connect` is one too:
 * each (re)connection, after which a page refetches what a push it missed would have changed.
 */
export function useRealtimeEvent<T>(event: string, listener: (payload: T) => void): void {
  const socket = useRealtime();
  useEffect(() => {
    if (!socket) {
      return undefined;
    }
    socket.on(event, listener);
    return () => {
      socket.off(event, listener);
    };
  }, [socket, event, listener]);
}
