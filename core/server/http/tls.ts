/**
 * TLS for a server that listens beyond loopback: a self-signed CA and a server certificate signed
 * by it (ECDSA P-256, SHA-256), made at first start and kept in DIR/tls (keys 0600). Node can
 * sign but not build X.509, so the few DER structures are encoded here (no dependency). The
 * server certificate is remade when the names or addresses it must cover change, or it is within
 * 30 days of expiry; the CA (which kubeconfigs pin) is kept.
 */
import { X509Certificate, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

// ---- DER -----------------------------------------------------------------------------------
function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}
const tlv = (tag: number, body: Buffer) => Buffer.concat([Buffer.from([tag]), len(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const explicit = (n: number, body: Buffer) => tlv(0xa0 | n, body);
function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0 && b[i + 1]! < 0x80) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function oid(s: string): Buffer {
  const parts = s.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const stack = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) stack.unshift(0x80 | (v & 0x7f));
    out.push(...stack);
  }
  return tlv(0x06, Buffer.from(out));
}
function bits(b: Buffer, unused = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
}
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));
const name = (cn: string) => seq(set(seq(oid('2.5.4.10'), utf8('wheelhouse'))), set(seq(oid('2.5.4.3'), utf8(cn))));
const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));

function spkiOf(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}
function keyId(spki: Buffer): Buffer {
  return createHash('sha1').update(spki).digest();
}

interface CertSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signer: KeyObject;
  issuerKeyId?: Buffer;
  ca: boolean;
  dnsNames?: string[];
  ips?: string[];
  days: number;
}

function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return Buffer.concat(groups.map((g) => Buffer.from([parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff])));
}

function makeCert(s: CertSpec): string {
  const spki = spkiOf(s.publicKey);
  const now = Date.now();
  const exts = [
    ext('2.5.29.19', true, s.ca ? seq(bool(true)) : seq()),
    ext('2.5.29.15', true, s.ca ? bits(Buffer.from([0x86]), 1) : bits(Buffer.from([0xa0]), 5)),
    ext('2.5.29.14', false, octets(keyId(spki))),
  ];
  if (s.issuerKeyId) exts.push(ext('2.5.29.35', false, seq(tlv(0x80, s.issuerKeyId))));
  if (!s.ca) {
    exts.push(ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))));
    const alt = [...(s.dnsNames ?? []).map((d) => tlv(0x82, Buffer.from(d))), ...(s.ips ?? []).map((ip) => tlv(0x87, ipBytes(ip)))];
    exts.push(ext('2.5.29.17', false, seq(...alt)));
  }
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    ECDSA_SHA256,
    name(s.issuer),
    seq(time(new Date(now - 60 * 60 * 1000)), time(new Date(now + s.days * 86400_000))),
    name(s.subject),
    spki,
    explicit(3, seq(...exts)),
  );
  const sig = sign('sha256', tbs, s.signer);
  const der = seq(tbs, ECDSA_SHA256, bits(sig));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
}

export interface TlsMaterial {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function writeFile(path: string, text: string, secret: boolean): void {
  writeFileSync(path, text, { mode: secret ? 0o600 : 0o644 });
  if (secret) chmodSync(path, 0o600);
}

function covers(certPem: string, dnsNames: string[], ips: string[]): boolean {
  try {
    const c = new X509Certificate(certPem);
    if (Date.parse(c.validTo) - Date.now() < 30 * 86400_000) return false;
    return dnsNames.every((d) => c.checkHost(d, { subject: 'never' }) === d) && ips.every((ip) => c.checkIP(ip) === ip);
  } catch {
    return false;
  }
}

/** The CA and server certificate in DIR/tls, made or remade as needed to cover `hosts`. */
export function ensureTls(dataDir: string, hosts: string[]): TlsMaterial {
  const dir = join(dataDir, 'tls');
  mkdirSync(dir, { recursive: true });
  const all = [...new Set(['localhost', '127.0.0.1', '::1', ...hosts.filter((h) => h && h !== '0.0.0.0' && h !== '::')])];
  const ips = all.filter((h) => isIP(h));
  const dnsNames = all.filter((h) => !isIP(h));
  const p = (f: string) => join(dir, f);
  let caKey: KeyObject;
  let caPem: string;
  if (existsSync(p('ca.key')) && existsSync(p('ca.crt'))) {
    caKey = createPrivateKey(readFileSync(p('ca.key')));
    caPem = readFileSync(p('ca.crt'), 'utf8');
  } else {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    caKey = pair.privateKey;
    caPem = makeCert({ subject: 'wheelhouse-ca', issuer: 'wheelhouse-ca', publicKey: pair.publicKey, signer: caKey, ca: true, days: 3650 });
    writeFile(p('ca.key'), caKey.export({ type: 'pkcs8', format: 'pem' }) as string, true);
    writeFile(p('ca.crt'), caPem, false);
  }
  if (existsSync(p('server.crt')) && existsSync(p('server.key'))) {
    const certPem = readFileSync(p('server.crt'), 'utf8');
    if (covers(certPem, dnsNames, ips)) return { caPem, certPem, keyPem: readFileSync(p('server.key'), 'utf8') };
  }
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caSpki = spkiOf(createPublicKey(caKey));
  const certPem = makeCert({
    subject: 'wheelhouse-apiserver',
    issuer: 'wheelhouse-ca',
    publicKey: pair.publicKey,
    signer: caKey,
    issuerKeyId: keyId(caSpki),
    ca: false,
    dnsNames: [...dnsNames, 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    ips,
    days: 365,
  });
  const keyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFile(p('server.key'), keyPem, true);
  writeFile(p('server.crt'), certPem, false);
  return { caPem, certPem, keyPem };
}

/** Loopback addresses get plain HTTP by default; anything else needs TLS. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
