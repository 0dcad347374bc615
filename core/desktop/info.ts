/** cluster.info, images.list and kubeconfig.merge. */
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { KubeObject } from '../api/types.ts';
import { DesktopError } from '../desktop-api.ts';
import { CONTEXT_NAME, defaultKubeconfigPath, mergeIntoKubeconfig } from '../server/http/kubeconfig.ts';
import type { ImageInfo } from '../desktop-api.ts';
import { normalizeImageRef } from '../runtime/runtime.ts';
import type { HandlerMap } from './handler-types.ts';
import { portForwardSupported } from './port-forward.ts';

function normalized(ref: string): string {
  try {
    return normalizeImageRef(ref);
  } catch {
    return ref;
  }
}

/** Whether the user's kubeconfig has the context, pointing at this server. */
function mergedInto(file: string, context: string, server: string): boolean {
  if (!existsSync(file)) return false;
  try {
    const cfg = parseYaml(readFileSync(file, 'utf8')) as any;
    const ctx = (cfg?.contexts ?? []).find((c: any) => c?.name === context)?.context;
    const cluster = (cfg?.clusters ?? []).find((c: any) => c?.name === ctx?.cluster)?.cluster;
    return cluster?.server === server;
  } catch {
    return false;
  }
}

export const infoHandlers: HandlerMap<'cluster.info' | 'images.list' | 'kubeconfig.merge'> = {
  async 'cluster.info'(s) {
    let runtime: { name: string; version?: string; available: boolean; error?: string } | null = null;
    if (s.cluster.runtime) {
      try {
        const v = await s.cluster.runtime.version();
        runtime = { name: v.runtimeName, version: v.runtimeVersion, available: true };
      } catch (e) {
        runtime = { name: 'docker', available: false, error: (e as Error).message };
      }
    }
    const kc = s.host.options.kubeconfig;
    return {
      name: s.cluster.name,
      version: s.host.version,
      runtime,
      localNodes: [...s.cluster.agents.keys()],
      portForward: portForwardSupported() ? 'direct' : 'unsupported',
      platform: process.platform,
      mode: s.host.mode,
      ...(kc ? { kubeconfig: { path: kc.path, context: kc.name ?? CONTEXT_NAME, userConfig: defaultKubeconfigPath(), merged: mergedInto(defaultKubeconfigPath(), kc.name ?? CONTEXT_NAME, kc.server) } } : {}),
    };
  },

  async 'kubeconfig.merge'(s, a) {
    const kc = s.host.options.kubeconfig;
    if (!kc) throw new DesktopError('Unavailable', 'this app does not serve the Kubernetes API, so there is no kubeconfig to merge');
    try {
      return mergeIntoKubeconfig(kc, { makeCurrent: a.makeCurrent === true });
    } catch (e) {
      throw new DesktopError('Conflict', `could not update ${defaultKubeconfigPath()}: ${(e as Error).message}`);
    }
  },

  async 'images.list'(s) {
    if (!s.cluster.runtime) return [];
    const [images, pods] = await Promise.all([s.cluster.runtime.listImages(), s.client.list<KubeObject>({ apiVersion: 'v1', kind: 'Pod' })]);
    const users = new Map<string, string[]>();
    for (const p of pods.items) {
      for (const c of [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])] as Array<{ image?: string }>) {
        if (!c.image) continue;
        const k = normalized(c.image);
        const key = `${p.metadata.namespace}/${p.metadata.name}`;
        const list = users.get(k) ?? [];
        if (!list.includes(key)) list.push(key);
        users.set(k, list);
      }
    }
    return images
      .map((i): ImageInfo => ({
        id: i.id,
        tags: i.repoTags.filter((t) => t !== '<none>:<none>'),
        size: i.size,
        created: i.createdAt.toISOString(),
        usedBy: [...new Set(i.repoTags.flatMap((t) => users.get(normalized(t)) ?? []))],
      }))
      .sort((a, b) => (a.tags[0] ?? a.id).localeCompare(b.tags[0] ?? b.id));
  },
};
