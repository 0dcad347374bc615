/**
 * The HTTP API's pods/log, pods/exec, pods/attach and pods/portforward, served by the node agent
 * that runs the pod. Port-forward connects to the pod's IP on the cluster network, which the
 * host reaches directly on Linux (Docker's bridge); see README for other systems.
 */
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError, notFound } from './api/errors.ts';
import type { Cluster } from './cluster.ts';
import type { ExecOptions, ExecSession, LogOptions, PodIO } from './server/http/pod-io.ts';

async function agentFor(cluster: Cluster, namespace: string, pod: string) {
  const agent = await cluster.agentForPod(namespace, pod);
  if (!agent) {
    // Either the pod does not exist, or it is not (yet) on a node of this machine.
    await cluster.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod });
    throw new ApiError('BadRequest', `pod ${pod} does not have a host assigned`);
  }
  return agent;
}

export function clusterPodIO(cluster: Cluster): PodIO {
  return {
    async *logs(namespace: string, pod: string, opts: LogOptions): AsyncIterable<string> {
      const agent = await agentFor(cluster, namespace, pod);
      const lines = await agent.logs(namespace, pod, opts.container || undefined, {
        follow: opts.follow,
        tailLines: opts.tailLines,
        sinceSeconds: opts.sinceSeconds,
        sinceTime: opts.sinceTime ? new Date(opts.sinceTime) : undefined,
        timestamps: opts.timestamps,
        previous: opts.previous,
      });
      let sent = 0;
      for await (const l of lines) {
        const text = `${opts.timestamps && l.time ? `${l.time} ` : ''}${l.line}\n`;
        sent += Buffer.byteLength(text);
        yield text;
        if (opts.limitBytes && sent >= opts.limitBytes) return;
      }
    },
    async exec(namespace: string, pod: string, container: string, command: string[], opts: ExecOptions): Promise<ExecSession> {
      const agent = await agentFor(cluster, namespace, pod);
      const s = await agent.exec(namespace, pod, container || undefined, command, { tty: opts.tty, stdin: opts.stdin });
      return {
        stdin: s.stdin,
        stdout: opts.stdout ? s.stdout : undefined,
        stderr: opts.stderr && !opts.tty ? s.stderr : undefined,
        resize: (size) => void s.resize(size.width, size.height).catch(() => undefined),
        exit: s.exitCode(),
        close: () => s.close(),
      };
    },
    async portForward(namespace: string, pod: string, port: number): Promise<Duplex> {
      const p = await cluster.client.get({ apiVersion: 'v1', kind: 'Pod', namespace, name: pod }).catch(() => {
        throw notFound({ kind: 'Pod', name: pod }, 'pods');
      });
      const ip = p.status?.podIP;
      if (!ip) throw new ApiError('BadRequest', `pod ${pod} has no IP yet (phase ${p.status?.phase ?? 'Pending'})`);
      return await new Promise<Duplex>((resolve, reject) => {
        const sock = connect({ host: ip, port }, () => resolve(sock));
        sock.once('error', (e) => reject(new ApiError('InternalError', `error forwarding port ${port} to pod ${pod}: ${e.message}`)));
      });
    },
  };
}
