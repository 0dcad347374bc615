/**
 * pods/portforward over WebSocket, the kubelet's channel protocol: for the i-th port of `?ports=`,
 * channel 2i carries data and 2i+1 errors; the server's first frame on each channel is the port
 * number (2 bytes, little-endian). One connection to each port per WebSocket.
 */
import type { Duplex } from 'node:stream';
import type { HttpContext } from './context.ts';
import type { WsConnection } from './websocket.ts';

export function servePortForward(ctx: HttpContext, ws: WsConnection, ns: string, pod: string, ports: number[]): void {
  const conns: Array<Duplex | undefined> = [];
  const pending: Buffer[][] = ports.map(() => []);
  const send = (ch: number, data: Buffer | string) =>
    ws.send(Buffer.concat([Buffer.from([ch]), typeof data === 'string' ? Buffer.from(data) : data]));
  const stop = () => {
    for (const c of conns) c?.destroy();
    ws.close(1000);
  };
  ctx.streams.add(stop);
  ws.onClose(() => {
    ctx.streams.delete(stop);
    for (const c of conns) c?.destroy();
  });

  ports.forEach((port, i) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16LE(port, 0);
    send(2 * i, prefix);
    send(2 * i + 1, prefix);
    ctx
      .podIO!.portForward(ns, pod, port)
      .then((conn) => {
        if (ws.closed) {
          conn.destroy();
          return;
        }
        conns[i] = conn;
        for (const b of pending[i]!.splice(0)) conn.write(b);
        conn.on('data', (d: Buffer) => send(2 * i, d));
        conn.on('error', (e) => send(2 * i + 1, `error forwarding port ${port} to pod ${pod}: ${e.message}`));
        conn.on('close', () => {
          conns[i] = undefined;
          if (conns.every((c) => !c)) ws.close(1000);
        });
      })
      .catch((e: Error) => {
        send(2 * i + 1, `error forwarding port ${port} to pod ${pod}: ${e.message}`);
        ws.close(1000);
      });
  });

  ws.onMessage((data) => {
    if (!data.length) return;
    const ch = data[0]!;
    if (ch % 2 !== 0) return; // clients do not write errors
    const i = ch / 2;
    if (i >= ports.length) return;
    const payload = data.subarray(1);
    if (!payload.length) return;
    const c = conns[i];
    if (c) c.write(payload);
    else pending[i]!.push(Buffer.from(payload));
  });
}
