/**
 * exec.open / write / resize / close: an interactive TTY session in a pod's container (xterm.js on
 * the other side). Output is pushed at once in `exec.output` (coalesced per event-loop turn, so a
 * burst is one event, and decoded as UTF-8 across chunk boundaries); `exec.exit` carries the
 * exit code. Closing the window (the session) closes its exec sessions.
 */
import { StringDecoder } from 'node:string_decoder';
import type { KubeObject } from '../api/types.ts';
import { DesktopError } from '../desktop-api.ts';
import type { ExecSession } from '../runtime/runtime.ts';
import type { HandlerMap } from './handler-types.ts';
import type { DesktopSession } from './host.ts';

const DEFAULT_SHELL = ['sh'];
const MAX_PENDING = 1024 * 1024;

interface Live {
  exec: ExecSession;
}

const live = new WeakMap<DesktopSession, Map<string, Live>>();

function sessionsOf(s: DesktopSession): Map<string, Live> {
  let m = live.get(s);
  if (!m) live.set(s, (m = new Map()));
  return m;
}

function get(s: DesktopSession, id: string): Live {
  const l = sessionsOf(s).get(id);
  if (!l) throw new DesktopError('NotFound', `exec session ${id} is not open (it ended, or belongs to another window)`);
  return l;
}

export const execHandlers: HandlerMap<'exec.open' | 'exec.write' | 'exec.resize' | 'exec.close'> = {
  async 'exec.open'(s, a) {
    const pod = await s.client.get<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: a.namespace, name: a.pod });
    const names: string[] = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name);
    const container = a.container ?? (names.length === 1 ? names[0]! : undefined);
    if (!container) throw new DesktopError('BadRequest', `pod ${a.pod} has several containers: choose one of ${names.join(', ')}`, { field: 'args.container' });
    if (!names.includes(container)) throw new DesktopError('BadRequest', `container ${container} is not valid for pod ${a.pod}`, { field: 'args.container' });
    const agent = await s.cluster.agentForPod(a.namespace, a.pod);
    if (!agent) throw new DesktopError('Unavailable', `pod ${a.namespace}/${a.pod} is not running on a node of this app`);
    const command = a.command ?? DEFAULT_SHELL;
    const exec = await agent.exec(a.namespace, a.pod, container, command, { tty: true, stdin: true });
    let ended = false;
    const sessionId = s.track('execSessions', 'x', () => {
      ended = true;
      sessionsOf(s).delete(sessionId);
      exec.stdin?.end();
      exec.close();
    });
    sessionsOf(s).set(sessionId, { exec });
    await exec.resize(a.cols, a.rows).catch(() => {});

    const decoder = new StringDecoder('utf8');
    let pending = '';
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      if (!pending) return;
      const data = pending;
      pending = '';
      s.emit('exec.output', { sessionId, data });
    };
    const onData = (chunk: Buffer) => {
      pending += decoder.write(chunk);
      if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    };
    exec.stdout.on('data', onData);
    exec.stderr.on('data', onData);
    // A stream failing (the engine went away, the process ended mid-write) ends the session, never the app.
    const ignore = () => {};
    exec.stdin?.on('error', ignore);
    exec.stdout.on('error', ignore);
    exec.stderr.on('error', ignore);
    exec
      .exitCode()
      .then(
        (code) => ({ exitCode: code }),
        (e: Error) => ({ error: e.message }),
      )
      .then((r) => {
        pending += decoder.end();
        flush();
        if (ended) return;
        s.forgetResource(sessionId);
        sessionsOf(s).delete(sessionId);
        s.emit('exec.exit', { sessionId, ...r });
      });
    return { sessionId, container, command };
  },

  async 'exec.write'(s, a) {
    const { exec } = get(s, a.sessionId);
    if (!exec.stdin || exec.stdin.destroyed) throw new DesktopError('Gone', 'the process no longer reads input');
    exec.stdin.write(a.data);
    return null;
  },

  async 'exec.resize'(s, a) {
    await get(s, a.sessionId).exec.resize(a.cols, a.rows);
    return null;
  },

  async 'exec.close'(s, a) {
    s.release(a.sessionId, 'execSessions');
    return null;
  },
};
