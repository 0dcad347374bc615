/**
 * The gRPC health checking protocol (grpc.health.v1.Health/Check) over Node's http2, with the
 * protobuf messages encoded by hand: HealthCheckRequest { string service = 1; } and
 * HealthCheckResponse { ServingStatus status = 1; }. Messages and outcomes follow the kubelet's
 * gRPC prober.
 */
import { connect, type ClientHttp2Session } from 'node:http2';

export interface GrpcOutcome {
  result: 'success' | 'failure';
  output: string;
}

const STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const CODES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable', 'DataLoss',
  'Unauthenticated',
];

/** HealthCheckRequest as a length-prefixed gRPC message. */
export function encodeRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body = name.length ? Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]) : Buffer.alloc(0);
  const head = Buffer.alloc(5);
  head.writeUInt8(0, 0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The `status` of a HealthCheckResponse frame (0 when absent, as proto3 defaults). */
export function decodeResponse(frame: Buffer): number {
  if (frame.length < 5) throw new Error('short gRPC frame');
  const len = frame.readUInt32BE(1);
  const msg = frame.subarray(5, 5 + len);
  let i = 0;
  let status = 0;
  while (i < msg.length) {
    const [tag, n] = readVarint(msg, i);
    i = n;
    const field = tag >> 3;
    const wire = tag & 7;
    if (wire === 0) {
      const [v, m] = readVarint(msg, i);
      i = m;
      if (field === 1) status = v;
    } else if (wire === 2) {
      const [l, m] = readVarint(msg, i);
      i = m + l;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  return status;
}

export function grpcHealthCheck(host: string, port: number, service: string, timeoutMs: number): Promise<GrpcOutcome> {
  const addr = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const secs = `${timeoutMs / 1000}s`;
  return new Promise<GrpcOutcome>((resolve) => {
    let session: ClientHttp2Session | undefined;
    let connected = false;
    let settled = false;
    const done = (o: GrpcOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session?.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => {
      done({
        result: 'failure',
        output: connected
          ? `timeout: health rpc did not complete within ${secs}`
          : `timeout: failed to connect service "${addr}" within ${secs}: context deadline exceeded`,
      });
    }, timeoutMs);
    session = connect(`http://${addr}`);
    session.on('error', (err) => done({ result: 'failure', output: `error: failed to connect service at "${addr}": ${err.message}` }));
    session.on('connect', () => {
      connected = true;
    });
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'kube-probe/1.30',
    });
    const chunks: Buffer[] = [];
    let headerStatus: string | undefined;
    let grpcMessage = '';
    req.on('response', (h) => {
      if (h['grpc-status'] !== undefined) headerStatus = String(h['grpc-status']);
      if (h['grpc-message']) grpcMessage = decodeURIComponent(String(h['grpc-message']));
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) headerStatus = String(t['grpc-status']);
      if (t['grpc-message']) grpcMessage = decodeURIComponent(String(t['grpc-message']));
    });
    req.on('error', (err) => done({ result: 'failure', output: `error: health rpc failed: ${err.message}` }));
    req.on('end', () => {
      const code = Number(headerStatus ?? '2');
      if (code !== 0) {
        return done({ result: 'failure', output: `rpc error: code = ${CODES[code] ?? code} desc = ${grpcMessage}` });
      }
      try {
        const status = decodeResponse(Buffer.concat(chunks));
        if (status === 1) return done({ result: 'success', output: '' });
        done({ result: 'failure', output: `service unhealthy (responded with "${STATUS[status] ?? status}")` });
      } catch (err) {
        done({ result: 'failure', output: `error: health rpc failed: ${(err as Error).message}` });
      }
    });
    req.end(encodeRequest(service));
  });
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

function readVarint(b: Buffer, i: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    if (i >= b.length) throw new Error('truncated varint');
    const byte = b[i++]!;
    v += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return [v, i];
    shift += 7;
  }
}
