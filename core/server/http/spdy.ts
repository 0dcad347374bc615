/**
 * The server side of SPDY/3.1 framing as Kubernetes streaming uses it (moby/spdystream on the
 * client): streams opened by the client with SYN_STREAM and a header block, answered with
 * SYN_REPLY; data frames with FIN for half-close; RST_STREAM, PING, GOAWAY. Header blocks are
 * zlib-compressed with the SPDY/3 dictionary, one compression context per direction per
 * connection. No flow control is enforced (spdystream sends without waiting for windows).
 *
 * The bytes come from a raw upgraded socket (`Upgrade: SPDY/3.1`) or from the binary messages of
 * a WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.30's port-forward tunnel).
 */
import { constants, createDeflate, createInflate, type Deflate, type Inflate } from 'node:zlib';

const WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
];
const SUFFIX =
  '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
  '404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,' +
  'publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.';

/** The SPDY/3 header compression dictionary: length-prefixed words, then the suffix. */
export const SPDY3_DICTIONARY = Buffer.concat([
  ...WORDS.map((w) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(w.length);
    return Buffer.concat([len, Buffer.from(w, 'latin1')]);
  }),
  Buffer.from(SUFFIX, 'latin1'),
]);

const TYPE = { SYN_STREAM: 1, SYN_REPLY: 2, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, HEADERS: 8, WINDOW_UPDATE: 9 } as const;
const FLAG_FIN = 0x01;
const MAX_DATA = 32 * 1024;

export class SpdyStream {
  private dataCbs: Array<(d: Buffer) => void> = [];
  private endCbs: Array<() => void> = [];
  private pending: Buffer[] = [];
  remoteEnded = false;
  localEnded = false;
  reset = false;

  constructor(
    private readonly conn: SpdyConnection,
    readonly id: number,
    /** Lower-case header names. */
    readonly headers: Record<string, string>,
  ) {}

  onData(cb: (d: Buffer) => void): void {
    this.dataCbs.push(cb);
    for (const d of this.pending.splice(0)) cb(d);
  }
  onEnd(cb: () => void): void {
    this.endCbs.push(cb);
    if (this.remoteEnded) cb();
  }
  reply(): void {
    this.conn.sendReply(this.id);
  }
  write(data: Buffer | string): void {
    if (this.localEnded || this.reset) return;
    const b = typeof data === 'string' ? Buffer.from(data) : data;
    for (let i = 0; i < b.length; i += MAX_DATA) this.conn.sendData(this.id, b.subarray(i, i + MAX_DATA), false);
  }
  end(): void {
    if (this.localEnded || this.reset) return;
    this.localEnded = true;
    this.conn.sendData(this.id, Buffer.alloc(0), true);
  }
  /** @internal */
  receive(data: Buffer, fin: boolean): void {
    if (data.length) {
      if (this.dataCbs.length) for (const cb of this.dataCbs) cb(data);
      else this.pending.push(data);
    }
    if (fin) this.finish();
  }
  /** @internal */
  finish(): void {
    if (this.remoteEnded) return;
    this.remoteEnded = true;
    for (const cb of this.endCbs) cb();
  }
}

export class SpdyConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly inflater: Inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
  private readonly deflater: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  private inQueue: Promise<void> = Promise.resolve();
  private outQueue: Promise<void> = Promise.resolve();
  private readonly streams = new Map<number, SpdyStream>();
  private closeCbs: Array<() => void> = [];
  closed = false;

  private handler?: (s: SpdyStream) => void;
  private early: SpdyStream[] = [];

  constructor(private readonly writeBytes: (b: Buffer) => void) {}

  /** Who gets the streams the client opens (streams opened before are handed over now). */
  onStream(handler: (s: SpdyStream) => void): void {
    this.handler = handler;
    for (const s of this.early.splice(0)) handler(s);
  }

  onClose(cb: () => void): void {
    this.closeCbs.push(cb);
  }

  feed(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 8) {
      const len = this.buf.readUIntBE(5, 3);
      if (this.buf.length < 8 + len) return;
      const frame = this.buf.subarray(0, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.inQueue = this.inQueue.then(() => this.handle(frame)).catch(() => this.close());
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.streams.values()) s.finish();
    this.inflater.close();
    this.deflater.close();
    for (const cb of this.closeCbs) cb();
  }

  private async handle(f: Buffer): Promise<void> {
    if (this.closed) return;
    const flags = f[4]!;
    if (!(f[0]! & 0x80)) {
      const id = f.readUInt32BE(0) & 0x7fffffff;
      this.streams.get(id)?.receive(f.subarray(8), (flags & FLAG_FIN) !== 0);
      return;
    }
    const type = f.readUInt16BE(2);
    const body = f.subarray(8);
    switch (type) {
      case TYPE.SYN_STREAM: {
        const id = body.readUInt32BE(0) & 0x7fffffff;
        const headers = parseHeaders(await this.zlib(this.inflater, body.subarray(10)));
        const s = new SpdyStream(this, id, headers);
        this.streams.set(id, s);
        if (this.handler) this.handler(s);
        else this.early.push(s);
        if (flags & FLAG_FIN) s.finish();
        return;
      }
      case TYPE.HEADERS:
      case TYPE.SYN_REPLY:
        await this.zlib(this.inflater, body.subarray(4)); // keeps the compression context in step
        return;
      case TYPE.RST_STREAM: {
        const s = this.streams.get(body.readUInt32BE(0) & 0x7fffffff);
        if (s) {
          s.reset = true;
          s.finish();
        }
        return;
      }
      case TYPE.PING:
        this.control(TYPE.PING, 0, Buffer.from(body.subarray(0, 4)));
        return;
      case TYPE.GOAWAY:
        this.close();
        return;
      default:
        return; // SETTINGS, WINDOW_UPDATE: nothing to do
    }
  }

  /** Runs one header block through a context with a sync flush. */
  private zlib(z: Inflate | Deflate, block: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (c: Buffer) => chunks.push(c);
      const onError = (e: Error) => reject(e);
      z.on('data', onData);
      z.once('error', onError);
      z.write(block);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('data', onData);
        z.off('error', onError);
        resolve(Buffer.concat(chunks));
      });
    });
  }

  private enqueue(make: () => Promise<Buffer> | Buffer): void {
    this.outQueue = this.outQueue
      .then(async () => {
        const frame = await make();
        if (!this.closed) this.writeBytes(frame);
      })
      .catch(() => this.close());
  }

  private control(type: number, flags: number, body: Buffer): void {
    this.enqueue(() => controlFrame(type, flags, body));
  }

  /** @internal */
  sendReply(id: number): void {
    this.enqueue(async () => {
      const block = await this.zlib(this.deflater, Buffer.alloc(4)); // zero headers
      const idBuf = Buffer.alloc(4);
      idBuf.writeUInt32BE(id);
      return controlFrame(TYPE.SYN_REPLY, 0, Buffer.concat([idBuf, block]));
    });
  }

  /** @internal */
  sendData(id: number, data: Buffer, fin: boolean): void {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(id & 0x7fffffff, 0);
    head[4] = fin ? FLAG_FIN : 0;
    head.writeUIntBE(data.length, 5, 3);
    const frame = Buffer.concat([head, data]);
    this.enqueue(() => frame);
  }

  resetStream(id: number, status = 5): void {
    const b = Buffer.alloc(8);
    b.writeUInt32BE(id);
    b.writeUInt32BE(status, 4);
    this.control(TYPE.RST_STREAM, 0, b);
  }
}

function controlFrame(type: number, flags: number, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8003, 0);
  head.writeUInt16BE(type, 2);
  head[4] = flags;
  head.writeUIntBE(body.length, 5, 3);
  return Buffer.concat([head, body]);
}

function parseHeaders(b: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  if (b.length < 4) return out;
  let off = 4;
  const n = b.readUInt32BE(0);
  for (let i = 0; i < n && off + 4 <= b.length; i++) {
    const nl = b.readUInt32BE(off);
    const name = b.subarray(off + 4, off + 4 + nl).toString('latin1').toLowerCase();
    off += 4 + nl;
    const vl = b.readUInt32BE(off);
    out[name] = b.subarray(off + 4, off + 4 + vl).toString('latin1');
    off += 4 + vl;
  }
  return out;
}
