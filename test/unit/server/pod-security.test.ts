/**
 * PodSecurity admission through the ApiServer (memory store): namespace labels pick the level,
 * enforce refuses pods with Kubernetes' exact words, warn and workloads get warnings (also as
 * HTTP `Warning` headers), unlabeled namespaces are privileged, running pods are never evicted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../../core/api/errors.ts';
import type { KubeObject } from '../../../core/api/types.ts';
import { podSecurityAdmission, policyFromLabels } from '../../../core/server/admission/pod-security.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { startApiHttpServer } from '../../../core/server/http/server.ts';
import { openStore, type Store } from '../../../core/store/index.ts';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

async function setup(): Promise<ApiServer> {
  store = await openStore('memory:');
  const api = new ApiServer({ store });
  api.admission.add(
    podSecurityAdmission({
      getNamespace: (name) => api.get({ apiVersion: 'v1', kind: 'Namespace', name }),
      listPods: async (ns) => (await api.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace: ns })).items,
    }),
  );
  await api.bootstrap();
  return api;
}

const L = 'pod-security.kubernetes.io/';
const namespace = (name: string, labels: Record<string, string> = {}) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });

function pod(name: string, ns: string, spec: Record<string, any> = {}, container: Record<string, any> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { containers: [{ name: 'c', image: 'nginx:1', ...container }], ...spec } };
}

/** A pod that meets `restricted`. */
const restrictedPod = (name: string, ns: string) =>
  pod(name, ns, { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } }, {
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } },
  });

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(isApiError(e, 'Forbidden')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected Forbidden');
}

describe('PodSecurity admission', () => {
  it('leaves unlabeled namespaces privileged (kube-system included) and explicit privileged too', async () => {
    const api = await setup();
    const wild = pod('wild', 'default', { hostNetwork: true, volumes: [{ name: 'root', hostPath: { path: '/' } }] }, { securityContext: { privileged: true } });
    const warnings: string[] = [];
    await api.create(wild, undefined, { warnings });
    await api.create({ ...wild, metadata: { name: 'wild', namespace: 'kube-system' } });
    await api.create(namespace('open', { [`${L}enforce`]: 'privileged' }));
    await api.create({ ...wild, metadata: { name: 'wild', namespace: 'open' } }, undefined, { warnings });
    expect(warnings).toEqual([]);
  });

  it('baseline: refuses privileged, host namespaces, hostPath, hostPorts, extra capabilities … with Kubernetes wording', async () => {
    const api = await setup();
    await api.create(namespace('base', { [`${L}enforce`]: 'baseline' }));
    const msg = await refusal(
      api.create(pod('x', 'base', { volumes: [{ name: 'v', hostPath: { path: '/etc' } }] }, { securityContext: { privileged: true } })),
    );
    expect(msg).toBe(
      'pods "x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true), hostPath volumes (volume "v")',
    );
    const many = await refusal(
      api.create(
        pod(
          'y',
          'base',
          {
            hostNetwork: true,
            hostPID: true,
            securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }], seccompProfile: { type: 'Unconfined' } },
            initContainers: [{ name: 'init', image: 'busybox', securityContext: { capabilities: { add: ['SYS_ADMIN', 'CHOWN', 'NET_RAW'] } } }],
          },
          { ports: [{ containerPort: 8080, hostPort: 8080 }, { containerPort: 443, hostPort: 443 }], securityContext: { procMount: 'Unmasked', seLinuxOptions: { type: 'spc_t' } } },
        ),
      ),
    );
    expect(many).toBe(
      'pods "y" is forbidden: violates PodSecurity "baseline:latest": ' +
        'host namespaces (hostNetwork=true, hostPID=true), ' +
        'hostPort (container "c" uses hostPorts 443, 8080), ' +
        'procMount (container "c" must not set securityContext.procMount to "Unmasked"), ' +
        'seLinuxOptions (container "c" set forbidden securityContext.seLinuxOptions: type "spc_t"), ' +
        'forbidden sysctls (kernel.msgmax), ' +
        'non-default capabilities (container "init" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add), ' +
        'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    );
    const apparmor = await refusal(api.create(pod('aa', 'base', {}, { securityContext: { appArmorProfile: { type: 'Unconfined' } } })));
    expect(apparmor).toContain('forbidden AppArmor profile (container "c" must not set AppArmor profile type to "Unconfined")');
    // A minimally specified pod, default capabilities and RuntimeDefault seccomp meet baseline.
    await api.create(pod('ok', 'base', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } }, { securityContext: { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE'] } } }));
  });

  it('restricted: requires no privilege escalation, non-root, seccomp, drop ALL and allowed volume types', async () => {
    const api = await setup();
    await api.create(namespace('locked', { [`${L}enforce`]: 'restricted', [`${L}enforce-version`]: 'latest' }));
    const msg = await refusal(api.create(pod('web', 'locked', { volumes: [{ name: 'data', emptyDir: {} }, { name: 'share', nfs: { server: 's', path: '/' } }] })));
    expect(msg).toBe(
      'pods "web" is forbidden: violates PodSecurity "restricted:latest": ' +
        'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), ' +
        'restricted volume types (volume "share" uses restricted volume type "nfs"), ' +
        'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    const root = restrictedPod('root', 'locked');
    root.spec.securityContext.runAsUser = 0;
    root.spec.containers[0].securityContext.capabilities.add = ['NET_BIND_SERVICE', 'SYS_TIME'];
    root.spec.volumes = [{ name: 'host', hostPath: { path: '/var' } }];
    expect(await refusal(api.create(root))).toBe(
      'pods "root" is forbidden: violates PodSecurity "restricted:latest": ' +
        'unrestricted capabilities (container "c" must not include "SYS_TIME" in securityContext.capabilities.add), ' +
        'restricted volume types (volume "host" uses restricted volume type "hostPath"), ' +
        'runAsUser=0 (pod must not set runAsUser=0)',
    );
    // Baseline violations are part of restricted too.
    expect(await refusal(api.create({ ...restrictedPod('host', 'locked'), spec: { ...restrictedPod('host', 'locked').spec, hostIPC: true } }))).toContain(
      'violates PodSecurity "restricted:latest": host namespaces (hostIPC=true)',
    );
    const good = await api.create(restrictedPod('good', 'locked'));
    expect(good.metadata.name).toBe('good');
  });

  it('honours the policy version: v1.22 predates the runAsUser check', async () => {
    const api = await setup();
    await api.create(namespace('old', { [`${L}enforce`]: 'restricted', [`${L}enforce-version`]: 'v1.22' }));
    const p = restrictedPod('u0', 'old');
    p.spec.containers[0].securityContext.runAsUser = 0;
    await api.create(p);
    const q = pod('plain', 'old');
    expect(await refusal(api.create(q))).toMatch(/^pods "plain" is forbidden: violates PodSecurity "restricted:v1\.22": allowPrivilegeEscalation != false/);
  });

  it('warn mode lets the pod in with a warning, and warn defaults to the enforce level for workloads', async () => {
    const api = await setup();
    await api.create(namespace('warned', { [`${L}warn`]: 'restricted' }));
    const warnings: string[] = [];
    await api.create(pod('p', 'warned', {}, { securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }), undefined, { warnings });
    expect(warnings).toEqual([
      'would violate PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    ]);

    // Workloads are never refused, even under enforce; their templates are warned about.
    await api.create(namespace('prod', { [`${L}enforce`]: 'baseline' }));
    const template = { metadata: { labels: { app: 'w' } }, spec: { containers: [{ name: 'w', image: 'nginx', securityContext: { privileged: true } }] } };
    const expected = 'would violate PodSecurity "baseline:latest": privileged (container "w" must not set securityContext.privileged=true)';
    const workloads: KubeObject[] = [
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'w', namespace: 'prod' }, spec: { selector: { matchLabels: { app: 'w' } }, template } },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'w', namespace: 'prod' }, spec: { selector: { matchLabels: { app: 'w' } }, template } },
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'w', namespace: 'prod' }, spec: { serviceName: 'w', selector: { matchLabels: { app: 'w' } }, template } },
      { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'w', namespace: 'prod' }, spec: { selector: { matchLabels: { app: 'w' } }, template } },
      { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'w', namespace: 'prod' }, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } },
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'w', namespace: 'prod' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } } } } } },
    ];
    for (const w of workloads) {
      const got: string[] = [];
      await api.create(w, undefined, { warnings: got });
      expect(got, w.kind).toEqual([expected]);
    }
    // An explicit warn=privileged silences them; the pods themselves are still refused.
    await api.patch({ apiVersion: 'v1', kind: 'Namespace', name: 'prod' }, 'merge', { metadata: { labels: { [`${L}warn`]: 'privileged' } } });
    const none: string[] = [];
    await api.update({ ...workloads[0]!, metadata: { name: 'w', namespace: 'prod' } }, undefined, { warnings: none });
    expect(none).toEqual([]);
    expect(await refusal(api.create(pod('w-1', 'prod', {}, { securityContext: { privileged: true } })))).toContain('violates PodSecurity "baseline:latest"');
  });

  it('checks pod updates that change an image, and lets other updates of existing pods through', async () => {
    const api = await setup();
    await api.create(namespace('team'));
    await api.create(pod('legacy', 'team', {}, { securityContext: { privileged: true } }));
    await api.patch({ apiVersion: 'v1', kind: 'Namespace', name: 'team' }, 'merge', { metadata: { labels: { [`${L}enforce`]: 'baseline' } } });
    // The running pod stays; label changes are not significant and go through.
    const relabeled = await api.patch<KubeObject>({ apiVersion: 'v1', kind: 'Pod', namespace: 'team', name: 'legacy' }, 'merge', { metadata: { labels: { tier: 'old' } } });
    expect(relabeled.metadata.labels).toEqual({ tier: 'old' });
    const msg = await refusal(api.patch({ apiVersion: 'v1', kind: 'Pod', namespace: 'team', name: 'legacy' }, 'json', [{ op: 'replace', path: '/spec/containers/0/image', value: 'nginx:2' }]));
    expect(msg).toBe('pods "legacy" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)');
    // Status writes are never checked.
    await api.updateStatus({ ...(await api.get({ apiVersion: 'v1', kind: 'Pod', namespace: 'team', name: 'legacy' })), status: { phase: 'Running' } });
  });

  it('warns about existing pods when the enforce level tightens, without evicting them', async () => {
    const api = await setup();
    await api.create(namespace('apps'));
    for (const n of ['b', 'a', 'c']) await api.create(pod(n, 'apps', { hostNetwork: true }));
    await api.create(pod('solo', 'apps', {}, { securityContext: { privileged: true } }));
    const ns = await api.get<KubeObject>({ apiVersion: 'v1', kind: 'Namespace', name: 'apps' });
    ns.metadata.labels = { ...ns.metadata.labels, [`${L}enforce`]: 'baseline' };
    const warnings: string[] = [];
    await api.update(ns, undefined, { warnings });
    expect(warnings).toEqual([
      'existing pods in namespace "apps" violate the new PodSecurity enforce level "baseline:latest"',
      'a (and 2 other pods): host namespaces',
      'solo: privileged',
    ]);
    expect((await api.list({ apiVersion: 'v1', kind: 'Pod' }, { namespace: 'apps' })).items).toHaveLength(4);
  });

  it('refuses invalid label values on the Namespace, and reads them as Kubernetes does', async () => {
    const api = await setup();
    try {
      await api.create(namespace('typo', { [`${L}enforce`]: 'strict' }));
      throw new Error('expected Invalid');
    } catch (e) {
      expect(isApiError(e, 'Invalid')).toBe(true);
      expect((e as Error).message).toBe('metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted');
    }
    await expect(api.create(namespace('v', { [`${L}warn-version`]: '1.25' }))).rejects.toThrow(/must be "latest" or "v1\.x"/);
    await api.create(namespace('fine', { [`${L}enforce`]: 'restricted', [`${L}enforce-version`]: 'v1.29', [`${L}audit`]: 'baseline' }));
    expect(policyFromLabels({ [`${L}enforce`]: 'strict', [`${L}warn`]: 'nope' }).policy).toMatchObject({
      enforce: { level: 'restricted', version: 'latest' },
      warn: { level: 'privileged' },
    });
  });

  it('sends warnings as HTTP Warning headers, as kube-apiserver does for kubectl', async () => {
    const api = await setup();
    await api.create(namespace('hdr', { [`${L}warn`]: 'baseline' }));
    const dir = mkdtempSync(join(tmpdir(), 'wh-psa-'));
    const server = await startApiHttpServer({ api, dataDir: dir, tls: false });
    try {
      const res = await fetch(`${server.url}/api/v1/namespaces/hdr/pods`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(pod('hp', 'hdr', { hostPID: true })),
      });
      expect(res.status).toBe(201);
      expect(res.headers.get('warning')).toBe('299 - "would violate PodSecurity \\"baseline:latest\\": host namespaces (hostPID=true)"');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
