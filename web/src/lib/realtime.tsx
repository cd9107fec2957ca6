import { createContext, type ReactNode, useContext, useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';

const RealtimeContext = createContext<Socket | null>(null);

/**
 * One Socket.IO connection to /realtime while someone is logged in (the cookie is its
 * credential; the server checks the page's Origin). Anonymous visitors have none: their
 * pages poll instead.
 */
export function RealtimeProvider({ userId, children }: { userId?: number; children: ReactNode }) {
  const [socket, setSocket] = useState<Socket | null>(null);
  useEffect(() => {
    if (userId === undefined) {
      return undefined;
    }
    const s = io('/realtime', { transports: ['websocket'], withCredentials: true });
    setSocket(s);
    return () => {
      s.close();
      setSocket(null);
    };
  }, [userId]);
  return <RealtimeContext.Provider value={socket}>{children}</RealtimeContext.Provider>;
}

export const useRealtime = (): Socket | null => useContext(RealtimeContext);

/** Calls `listener` for every `event` on the connection while mounted. */
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
