import { io, Socket, type ManagerOptions, type SocketOptions } from 'socket.io-client';

/** A /realtime connection over WebSocket, resolved once connected (rejected on refusal). */
export function connect(
  url: string,
  auth: Record<string, string> = {},
  headers: Record<string, string> = {},
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = io(`${url}/realtime`, {
      auth,
      extraHeaders: headers,
      transports: ['websocket'],
      reconnection: false,
      ...options,
    });
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function next<T>(
  socket: Socket,
  event: string,
  match: (payload: T) => boolean = () => true,
  ms = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const handler = (payload: T) => {
      if (match(payload)) {
        clearTimeout(timer);
        socket.off(event, handler);
        resolve(payload);
      }
    };
    socket.on(event, handler);
  });
}
