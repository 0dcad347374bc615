/**
 * A minimal ustar writer for in-memory docker build contexts: regular files only, names up to
 * 100 bytes (or 255 split into prefix/name), owned by root, fixed mtime (reproducible builds).
 */
export interface TarEntry {
  name: string;
  data: Buffer | string;
  /** Default 0o644. */
  mode?: number;
}

const BLOCK = 512;

export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    parts.push(header(e.name, data.length, e.mode ?? 0o644));
    parts.push(data);
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2)); // end of archive
  return Buffer.concat(parts);
}

function header(fullName: string, size: number, mode: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let name = fullName;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = fullName.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(fullName.slice(cut + 1)) > 100) throw new Error(`tar: name too long: ${fullName}`);
    prefix = fullName.slice(0, cut);
    name = fullName.slice(cut + 1);
  }
  h.write(name, 0, 100, 'utf8');
  octal(h, 100, 8, mode);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // checksum placeholder: spaces
  h.write('0', 156, 1, 'ascii'); // regular file
  h.write('ustar\u000000', 257, 8, 'binary');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'binary');
  return h;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(value.toString(8).padStart(length - 1, '0') + '\u0000', offset, length, 'ascii');
}
