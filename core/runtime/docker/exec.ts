/**
 * Exec: an interactive session (stdin, TTY, resize) over the engine's hijacked connection, and
 * `execSync` for exec probes (collect output, exit code, timeout).
 */
import { PassThrough, type Duplex } from 'node:stream';
import { ExecTimeoutError, RuntimeError, type ExecOptions, type ExecResult, type ExecSession } from '../runtime.ts';
import type { Engine } from './engine.ts';

const MAX_SYNC_OUTPUT = 1024 * 1024;

export async function exec(engine: Engine, containerId: string, opts: ExecOptions): Promise<ExecSession> {
  const tty = opts.tty ?? false;
  const wantStdin = opts.stdin ?? false;
  const ex = await engine.call(
    (d) =>
      d.getContainer(containerId).exec({
        Cmd: opts.cmd,
        AttachStdin: wantStdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: tty,
        ...(opts.env ? { Env: opts.env.map((e) => `${e.name}=${e.value}`) } : {}),
        ...(opts.user ? { User: opts.user } : {}),
        ...(opts.workingDir ? { WorkingDir: opts.workingDir } : {}),
      }),
    { kind: 'container', ref: containerId, what: `exec in container ${containerId.slice(0, 12)}` },
  );
  const sock = (await engine.call((d) => ex.start({ hijack: true, stdin: wantStdin, Tty: tty } as never), {
    kind: 'exec',
    ref: ex.id,
  })) as unknown as Duplex;

  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (tty) {
    sock.pipe(stdout);
    stderr.end();
  } else {
    demux(sock, stdout, stderr);
  }
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      if (tty && !stdout.writableEnded) stdout.end();
      resolve();
    };
    sock.on('end', finish);
    sock.on('close', finish);
    sock.on('error', finish);
  });

  let exitCode: Promise<number> | undefined;
  return {
    ...(wantStdin ? { stdin: sock } : {}),
    stdout,
    stderr,
    resize: async (cols, rows) => {
      await engine.call(() => ex.resize({ w: cols, h: rows }), { kind: 'exec', ref: ex.id });
    },
    exitCode: () =>
      (exitCode ??= ended.then(async () => {
        // The stream ends just before the engine records the exit code: poll briefly.
        for (let i = 0; ; i++) {
          const info = await engine.call(() => ex.inspect(), { kind: 'exec', ref: ex.id });
          if (!info.Running && info.ExitCode !== null) return info.ExitCode;
          if (i > 200) throw new RuntimeError(`exec ${ex.id.slice(0, 12)}: no exit code after its output ended`);
          await new Promise((r) => setTimeout(r, 10));
        }
      })),
    close: () => {
      sock.destroy();
      if (!stdout.writableEnded) stdout.end();
      if (!stderr.writableEnded) stderr.end();
    },
  };
}

export async function execSync(engine: Engine, containerId: string, cmd: string[], timeoutMs: number): Promise<ExecResult> {
  const session = await exec(engine, containerId, { cmd });
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], size: { stdout: 0, stderr: 0 }, truncated: false };
  const collect = (name: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const room = MAX_SYNC_OUTPUT - out.size[name];
    if (room <= 0) {
      out.truncated = true;
      return;
    }
    if (chunk.length > room) out.truncated = true;
    const part = chunk.subarray(0, room);
    out[name].push(part);
    out.size[name] += part.length;
  };
  session.stdout.on('data', collect('stdout'));
  session.stderr.on('data', collect('stderr'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      session.close();
      reject(new ExecTimeoutError(containerId, cmd, timeoutMs));
    }, timeoutMs);
  });
  try {
    const exitCode = await Promise.race([session.exitCode(), timeout]);
    return {
      exitCode,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
      truncated: out.truncated,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Docker's multiplexed stream → two streams (frame: [stream, 0, 0, 0, len32be] + payload). */
function demux(src: Duplex, stdout: PassThrough, stderr: PassThrough): void {
  let buf: Buffer = Buffer.alloc(0);
  src.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 8) {
      const len = buf.readUInt32BE(4);
      if (buf.length < 8 + len) break;
      (buf[0] === 2 ? stderr : stdout).write(buf.subarray(8, 8 + len));
      buf = buf.subarray(8 + len);
    }
  });
  const end = () => {
    if (!stdout.writableEnded) stdout.end();
    if (!stderr.writableEnded) stderr.end();
  };
  src.on('end', end);
  src.on('close', end);
  src.on('error', end);
}
