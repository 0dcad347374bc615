/**
 * A PodIO without containers, for the HTTP streaming tests: logs are numbered lines; exec runs
 * `echo ARGS`, `cat` (stdin back to stdout), `fail` (to stderr, exit 3) or `sh -c "exit N"`;
 * port-forward connects to a TCP server on loopback that the test owns.
 */
import { connect } from 'node:net';
import { PassThrough, type Duplex } from 'node:stream';
import type { ExecOptions, ExecSession, LogOptions, PodIO, TerminalSize } from '../../../core/server/http/pod-io.ts';

export class FakePodIO implements PodIO {
  resizes: TerminalSize[] = [];
  constructor(private readonly forwardTo?: () => number) {}

  async *logs(namespace: string, pod: string, opts: LogOptions): AsyncIterable<string> {
    const lines = Array.from({ length: 5 }, (_, i) => `${opts.timestamps ? '2026-01-01T00:00:0' + i + 'Z ' : ''}${namespace}/${pod}/${opts.container} line ${i + 1}\n`);
    for (const l of opts.tailLines !== undefined ? lines.slice(-opts.tailLines) : lines) yield l;
  }

  async exec(_ns: string, _pod: string, _container: string, command: string[], opts: ExecOptions): Promise<ExecSession> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const stdin = opts.stdin ? new PassThrough() : undefined;
    let done!: (code: number) => void;
    const exit = new Promise<number>((r) => (done = r));
    const [cmd, ...args] = command;
    queueMicrotask(() => {
      if (cmd === 'echo') {
        stdout.end(args.join(' ') + '\n');
        stderr.end();
        done(0);
      } else if (cmd === 'cat' && stdin) {
        stdin.pipe(stdout);
        stdin.on('end', () => {
          stderr.end();
          done(0);
        });
      } else if (cmd === 'fail') {
        stdout.end();
        stderr.end('it failed\n');
        done(3);
      } else if (cmd === 'sh' && args[0] === '-c' && /^exit \d+$/.test(args[1] ?? '')) {
        stdout.end();
        stderr.end();
        done(Number(args[1]!.split(' ')[1]));
      } else {
        stdout.end();
        stderr.end(`${cmd}: not found\n`);
        done(127);
      }
    });
    return {
      stdin,
      stdout,
      stderr: opts.tty ? undefined : stderr,
      resize: (s) => this.resizes.push(s),
      exit,
      close: () => {
        stdout.destroy();
        stderr.destroy();
      },
    };
  }

  async portForward(_ns: string, _pod: string, port: number): Promise<Duplex> {
    const target = this.forwardTo?.();
    if (!target) throw new Error(`nothing listens on port ${port}`);
    return await new Promise<Duplex>((resolve, reject) => {
      const s = connect(target, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
  }
}
