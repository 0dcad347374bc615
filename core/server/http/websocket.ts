/**
 * A small RFC 6455 WebSocket server side, enough for the channel.k8s.io and portforward.k8s.io
 * subprotocols: the upgrade handshake, masked client frames (fragmented or not), ping/pong, close,
 * and binary/text messages out. No extensions (no permessage-deflate), as kubectl asks for none.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE = 16 * 1024 * 1024;

export interface WsConnection {
  readonly protocol: string;
  onMessage(cb: (data: Buffer, binary: boolean) => void): void;
  onClose(cb: (code: number) => void): void;
  send(data: Buffer | string, binary?: boolean): void;
  close(code?: number, reason?: string): void;
  readonly closed: boolean;
}

/** The subprotocol the client offered that we take (first of ours it lists), or undefined. */
export function pickProtocol(req: IncomingMessage, supported: readonly string[]): string | undefined {
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return supported.find((p) => offered.includes(p));
}

export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return String(req.headers.upgrade ?? '').toLowerCase() === 'websocket' && !!req.headers['sec-websocket-key'];
}

/** Completes the handshake with `protocol` and returns the connection. */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string): WsConnection {
  const key = String(req.headers['sec-websocket-key']);
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${accept}\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      '\r\n',
  );
  (socket as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  return new Connection(socket, protocol, head);
}

/** An HTTP error response on a socket that asked to be upgraded. */
export function rejectUpgrade(socket: Duplex, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  const reason = code === 401 ? 'Unauthorized' : code === 403 ? 'Forbidden' : code === 404 ? 'Not Found' : code === 400 ? 'Bad Request' : 'Error';
  socket.end(`HTTP/1.1 ${code} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
}

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([header, payload]);
}

class Connection implements WsConnection {
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragOpcode = 0;
  private messageCbs: Array<(d: Buffer, b: boolean) => void> = [];
  private closeCbs: Array<(code: number) => void> = [];
  closed = false;
  private closeSent = false;

  constructor(
    private readonly socket: Duplex,
    readonly protocol: string,
    head: Buffer,
  ) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => this.finish(1006));
    socket.on('error', () => this.finish(1006));
    if (head.length) queueMicrotask(() => this.onData(head));
  }

  onMessage(cb: (data: Buffer, binary: boolean) => void): void {
    this.messageCbs.push(cb);
  }

  onClose(cb: (code: number) => void): void {
    this.closeCbs.push(cb);
  }

  send(data: Buffer | string, binary = true): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.socket.write(frame(binary ? 2 : 1, typeof data === 'string' ? Buffer.from(data) : data));
  }

  close(code = 1000, reason = ''): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.socket.write(frame(8, payload));
    // The client answers with its close frame; don't wait forever for it.
    setTimeout(() => this.socket.destroy(), 2000).unref();
  }

  private finish(code: number): void {
    if (this.closed) return;
    this.closed = true;
    for (const cb of this.closeCbs) cb(code);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        const big = this.buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return this.protocolError(1009);
        len = Number(big);
        off = 10;
      }
      const maskOff = off;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      const payload = Buffer.from(this.buf.subarray(off, off + len));
      if (masked) for (let i = 0; i < len; i++) payload[i]! ^= this.buf[maskOff + (i % 4)]!;
      this.buf = this.buf.subarray(off + len);
      if (!masked) return this.protocolError(1002); // clients must mask
      this.onFrame(fin, opcode, payload);
      if (this.closed) return;
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case 0x9: // ping
        if (!this.closeSent) this.socket.write(frame(0xa, payload));
        return;
      case 0xa: // pong
        return;
      case 0x8: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (!this.closeSent) {
          this.closeSent = true;
          this.socket.write(frame(8, payload.subarray(0, 2)));
        }
        this.socket.end();
        this.finish(code);
        return;
      }
      case 0x0:
      case 0x1:
      case 0x2: {
        if (opcode !== 0) this.fragOpcode = opcode;
        this.fragments.push(payload);
        const size = this.fragments.reduce((n, f) => n + f.length, 0);
        if (size > MAX_MESSAGE) return this.protocolError(1009);
        if (!fin) return;
        const data = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
        this.fragments = [];
        for (const cb of this.messageCbs) cb(data, this.fragOpcode === 2);
        return;
      }
      default:
        this.protocolError(1002);
    }
  }

  private protocolError(code: number): void {
    this.close(code);
    this.socket.destroy();
    this.finish(code);
  }
}
