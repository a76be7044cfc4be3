import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Caps the gateway's open connections (issue 9, item 6: 3,000 slow-header sockets held for 90 s
 * made a legitimate POST fail once the process ran out of file descriptors).
 *
 * A plain `maxConnections` would only move the problem: the first `cap` idle sockets would hold
 * every slot, and the legitimate POST would be refused instead. So when the cap is reached, the
 * oldest connection that is not being answered makes room: one that has not sent a whole request
 * yet (slow headers or a slow body) or that sits idle between keep-alive requests. A connection
 * whose complete request is being answered (a long-poll, an arrival waiting for its commit) is
 * never cut; only if every one is, the newcomer is refused. Node's own `maxConnections` stays as
 * the hard limit, above the cap, for sockets that arrive faster than closed ones are counted off.
 */
export function guardConnections(server: Server, cap: number): void {
  // Insertion order is age: the first idle one found is the oldest.
  const open = new Set<Socket>();
  const answering = new WeakMap<Socket, IncomingMessage>();
  server.maxConnections = cap * 2;

  const oldestIdle = (): Socket | undefined => {
    for (const socket of open) {
      const request = answering.get(socket);
      if (!request || !request.complete) return socket;
    }
    return undefined;
  };

  server.on('connection', (socket: Socket) => {
    if (open.size >= cap) {
      const idle = oldestIdle();
      if (!idle) {
        socket.destroy();
        return;
      }
      open.delete(idle);
      idle.destroy();
    }
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });

  server.on('request', (request: IncomingMessage, response) => {
    const { socket } = request;
    answering.set(socket, request);
    response.once('close', () => {
      if (answering.get(socket) === request) answering.delete(socket);
    });
  });
}
