/**
 * Removing what a test or bench made in the Docker engine: every container, volume and network
 * labelled with its cluster (and, when asked, images). A network is removed once its containers
 * are: the engine can still count their endpoints for a moment after they are gone ("has active
 * endpoints"), so that removal is tried again for a few seconds. A network left behind keeps its
 * cluster's service rules alive in the host's iptables (see ServiceProxy.removeDeadClusters).
 */
import type Docker from 'dockerode';
import { LABEL } from '../core/runtime/runtime.ts';

export async function removeLabelled(docker: Docker, cluster: string, opts: { images?: boolean } = {}): Promise<void> {
  const label = [`${LABEL.cluster}=${cluster}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
  const volumes = (await docker.listVolumes({ filters: { label } })).Volumes ?? [];
  await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => {})));
  const networks = await docker.listNetworks({ filters: { label } });
  await Promise.all(networks.map((n) => removeNetwork(docker, n.Id)));
  if (opts.images) {
    const images = await docker.listImages({ filters: { label } });
    await Promise.all(images.map((i) => docker.getImage(i.Id).remove({ force: true }).catch(() => {})));
  }
}

async function removeNetwork(docker: Docker, id: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await docker.getNetwork(id).remove();
      return;
    } catch (e) {
      // Gone already, or failing for another reason: nothing to wait for.
      if (!/active endpoints/i.test((e as Error).message) || attempt >= 20) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
