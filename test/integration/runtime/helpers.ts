/**
 * Shared set-up for the runtime integration tests: a DockerRuntime on the real engine, a cluster
 * name unique to the test file (every object is labelled with it) and clean-up by that label.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import Docker from 'dockerode';
import { DockerRuntime } from '../../../core/runtime/docker/docker-runtime.ts';
import { type ContainerConfig, type PodSandboxConfig } from '../../../core/runtime/runtime.ts';
import { removeLabelled } from '../../docker-cleanup.ts';

export const BUSYBOX = `wheelhouse-test/busybox:${process.env.TEST_IMAGE_VERSION ?? '1'}`;

export function testCluster(prefix: string): string {
  return `rt-${prefix}-${randomBytes(3).toString('hex')}`;
}

export function newRuntime(): DockerRuntime {
  return new DockerRuntime();
}

/** A raw dockerode client for arranging and checking things behind the runtime's back. */
export const docker = new Docker({ socketPath: '/var/run/docker.sock' });

export async function requireBusybox(): Promise<void> {
  try {
    await docker.getImage(BUSYBOX).inspect();
  } catch {
    throw new Error(`test image ${BUSYBOX} is missing: run bash scripts/build-test-images.sh`);
  }
}

let podCounter = 0;

export function sandboxConfig(cluster: string, network: string, over: Partial<PodSandboxConfig> = {}): PodSandboxConfig {
  const n = ++podCounter;
  return {
    cluster,
    node: 'node-1',
    namespace: 'default',
    podName: `pod-${n}`,
    podUid: `${randomBytes(4).toString('hex')}-uid-${n}`,
    attempt: 0,
    hostname: `pod-${n}`,
    network,
    portMappings: [],
    labels: { app: 'test' },
    annotations: {},
    ...over,
  };
}

export function containerConfig(over: Partial<ContainerConfig> = {}): ContainerConfig {
  return {
    name: 'main',
    attempt: 0,
    image: BUSYBOX,
    env: [],
    mounts: [],
    resources: {},
    securityContext: {},
    labels: {},
    annotations: {},
    ...over,
  };
}

/** Removes every container, network and volume labelled with `cluster`. */
export async function cleanupCluster(cluster: string): Promise<void> {
  await removeLabelled(docker, cluster, { images: true });
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}
