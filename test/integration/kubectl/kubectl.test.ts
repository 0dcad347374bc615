import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBECTL, requireKubectl, startHarness, type Harness } from './helpers.ts';

const run = requireKubectl();

const MANIFEST = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
`;

describe.runIf(run)('kubectl against the Wheelhouse API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  const ok = async (args: string[], input?: string) => {
    const r = await h.kubectl(args, { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  it('talks to the server: version, api-resources, namespaces', async () => {
    expect(await ok(['version'])).toMatch(/Server Version: v1\.30\.0-wheelhouse/);
    const res = await ok(['api-resources']);
    expect(res).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(res).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(await ok(['get', 'ns'])).toMatch(/^kube-system\s+Active\s+\d+s$/m);
  });

  it('applies a manifest: created, unchanged, configured', async () => {
    expect(await ok(['apply', '-f', '-'], MANIFEST)).toBe('deployment.apps/web created\nservice/web created\nconfigmap/settings created\n');
    expect(await ok(['apply', '-f', '-'], MANIFEST)).toContain('deployment.apps/web unchanged');
    const out = await ok(['apply', '-f', '-'], MANIFEST.replace('replicas: 2', 'replicas: 3'));
    expect(out).toContain('deployment.apps/web configured');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
  });

  it('prints tables as kubectl does, -o wide, yaml and json', async () => {
    const table = await ok(['get', 'deployments']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table).toMatch(/^web\s+0\/3\s+0\s+0\s+\d+s$/m);
    const wide = await ok(['get', 'deploy', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/CONTAINERS\s+IMAGES\s+SELECTOR$/);
    expect(wide).toMatch(/web\s+nginx:1\.25\s+app=web/);
    expect((await ok(['get', 'svc', 'web'])).split('\n')[0]).toMatch(/^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/);
    expect(await ok(['get', 'cm', 'settings', '-o', 'yaml'])).toMatch(/^data:\n {2}mode: fast$/m);
    const json = JSON.parse(await ok(['get', 'deploy', 'web', '-o', 'json']));
    expect(json.kind).toBe('Deployment');
    expect(json.metadata.resourceVersion).toMatch(/^\d+$/);
    const pods = await ok(['get', 'pods', '-A']);
    expect(pods).toBe('');
  });

  it('describes a deployment', async () => {
    const out = await ok(['describe', 'deployment', 'web']);
    expect(out).toMatch(/^Name:\s+web$/m);
    expect(out).toMatch(/^Replicas:\s+3 desired/m);
    expect(out).toMatch(/Image:\s+nginx:1\.25/);
  });

  it('scales, labels, annotates and patches', async () => {
    expect(await ok(['scale', 'deployment/web', '--replicas=5'])).toBe('deployment.apps/web scaled\n');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
    expect(await ok(['label', 'deploy', 'web', 'tier=frontend'])).toBe('deployment.apps/web labeled\n');
    expect(await ok(['annotate', 'deploy', 'web', 'owner=team-a'])).toBe('deployment.apps/web annotated\n');
    expect(await ok(['get', 'deploy', '-l', 'tier=frontend', '-o', 'name'])).toBe('deployment.apps/web\n');
    await ok(['patch', 'cm', 'settings', '--type=merge', '-p', '{"data":{"level":"2"}}']);
    await ok(['patch', 'cm', 'settings', '--type=json', '-p', '[{"op":"add","path":"/data/x","value":"y"}]']);
    await ok(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}']);
    expect(await ok(['get', 'cm', 'settings', '-o', 'jsonpath={.data}'])).toBe('{"level":"2","mode":"fast","x":"y"}');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('nginx:1.27');
  });

  it('shows rollout history', async () => {
    const r = await h.kubectl(['rollout', 'history', 'deployment/web']);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/deployment\.apps\/web|No rollout history found/);
  });

  it('explains fields from the OpenAPI schema', async () => {
    const out = await ok(['explain', 'deployment.spec.replicas']);
    expect(out).toMatch(/FIELD:\s+replicas <integer>/);
    expect(out).toMatch(/Number of desired pods/);
  });

  it('rejects unknown fields with strict validation', async () => {
    const bad = MANIFEST.split('---')[0]!.replace('name: web\n  labels', 'name: bad\n  labels').replace('replicas: 2', 'replica: 2');
    const r = await h.kubectl(['apply', '-f', '-'], { input: bad });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('strict decoding error: unknown field "spec.replica"');
    const loose = await h.kubectl(['apply', '--validate=false', '-f', '-'], { input: bad });
    expect(loose.code).toBe(0);
  });

  it('server-side apply creates, updates and removes what it no longer applies', async () => {
    const cm = (v: string, extra = '') => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n${extra}data: {v: "${v}"${extra ? ', gone: "soon"' : ''}}\n`;
    expect(await ok(['apply', '--server-side', '-f', '-'], cm('1', '  labels: {team: a}\n'))).toBe('configmap/ssa serverside-applied\n');
    await ok(['label', 'cm', 'ssa', 'other=kept']);
    await ok(['apply', '--server-side', '-f', '-'], cm('2'));
    const live = JSON.parse(await ok(['get', 'cm', 'ssa', '-o', 'json', '--show-managed-fields']));
    expect(live.data).toEqual({ v: '2' });
    expect(live.metadata.labels).toEqual({ other: 'kept' });
    expect(live.metadata.managedFields.find((m: any) => m.operation === 'Apply').manager).toBe('kubectl');
  });

  it('server-side apply conflicts with what kubectl create and kubectl scale own; --force-conflicts takes it', async () => {
    const owned = (replicas: number) =>
      `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: owned}\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: owned}}\n` +
      `  template:\n    metadata: {labels: {app: owned}}\n    spec:\n      containers: [{name: web, image: "nginx:1.25"}]\n`;
    expect(await ok(['create', '-f', '-'], owned(2))).toBe('deployment.apps/owned created\n');
    await ok(['scale', 'deployment/owned', '--replicas=4']);
    const scaled = JSON.parse(await ok(['get', 'deploy', 'owned', '-o', 'json', '--show-managed-fields']));
    const scaler = scaled.metadata.managedFields.find((m: any) => m.subresource === 'scale');
    expect(scaler).toMatchObject({ operation: 'Update', apiVersion: 'apps/v1', fieldsV1: { 'f:spec': { 'f:replicas': {} } } });
    expect(scaled.metadata.managedFields.find((m: any) => m.manager === 'kubectl-create')).toMatchObject({ operation: 'Update' });

    const refused = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: owned(3) });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(`Apply failed with 1 conflict: conflict with "${scaler.manager}" with subresource "scale" using apps/v1: .spec.replicas`);
    expect(refused.stderr).toContain('--force-conflicts');
    const after = JSON.parse(await ok(['get', 'deploy', 'owned', '-o', 'json', '--show-managed-fields']));
    expect(after.spec.replicas).toBe(4);
    expect(after.metadata.resourceVersion).toBe(scaled.metadata.resourceVersion);

    expect(await ok(['apply', '--server-side', '--force-conflicts', '-f', '-'], owned(3))).toBe('deployment.apps/owned serverside-applied\n');
    expect(await ok(['get', 'deploy', 'owned', '-o', 'jsonpath={.spec.replicas}'])).toBe('3');
    const yaml = await ok(['get', 'deploy', 'owned', '-o', 'yaml', '--show-managed-fields']);
    expect(yaml).toMatch(/manager: kubectl\n\s+operation: Apply/);
    expect(yaml).toMatch(/manager: kubectl-create\n\s+operation: Update/);
    expect(yaml).not.toContain('subresource: scale'); // its only field was taken
    expect(await ok(['get', 'deploy', 'owned', '-o', 'yaml'])).not.toContain('managedFields');
  });

  it('server-side apply after a client-side apply conflicts with kubectl-client-side-apply', async () => {
    const cm = (mode: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: csa}\ndata: {mode: ${mode}}\n`;
    await ok(['apply', '-f', '-'], cm('fast'));
    const refused = await h.kubectl(['apply', '--server-side', '-f', '-'], { input: cm('slow') });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .data.mode');
    expect(await ok(['get', 'cm', 'csa', '-o', 'jsonpath={.data.mode}'])).toBe('fast');
    // The same value is no conflict; kubectl then moves the client-side apply's fields to its Apply entry.
    expect(await ok(['apply', '--server-side', '-f', '-'], cm('fast'))).toBe('configmap/csa serverside-applied\n');
    expect(await ok(['apply', '--server-side', '-f', '-'], cm('slow'))).toBe('configmap/csa serverside-applied\n');
    expect(await ok(['get', 'cm', 'csa', '-o', 'jsonpath={.data.mode}'])).toBe('slow');
  });

  it('watches with get -w', async () => {
    const child = spawn(KUBECTL, ['get', 'configmaps', '-w'], { env: { PATH: process.env.PATH ?? '', HOME: h.home, KUBECONFIG: h.server.kubeconfigPath } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      await waitFor(() => out.includes('settings'));
      await ok(['create', 'configmap', 'watched', '--from-literal=a=b']);
      await waitFor(() => /^watched\s+1\s+\d+s$/m.test(out));
    } finally {
      child.kill();
    }
    expect(out.split('\n')[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
  });

  it('answers auth can-i, whoami, and RBAC denials in Kubernetes wording', async () => {
    expect(await ok(['auth', 'can-i', 'create', 'deployments'])).toBe('yes\n');
    expect(await ok(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'])).toBe('wheelhouse-admin');
    await ok(['create', 'namespace', 'dev']);
    await ok(['create', 'namespace', 'prod']);
    await ok(['create', 'serviceaccount', 'app', '-n', 'dev']);
    await ok(['create', 'rolebinding', 'app-view', '--clusterrole=view', '--serviceaccount=dev:app', '-n', 'dev']);
    const as = ['--as=system:serviceaccount:dev:app'];
    const no = await h.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'prod', ...as]);
    expect(no.stdout.trim()).toBe('no');
    expect(no.code).toBe(1);
    expect(await ok(['auth', 'can-i', 'list', 'pods', '-n', 'dev', ...as])).toBe('yes\n');
    expect((await h.kubectl(['auth', 'can-i', 'get', 'pods/log', '-n', 'dev', ...as])).stdout.trim()).toBe('yes');
    expect((await h.kubectl(['auth', 'can-i', 'create', 'pods/exec', '-n', 'dev', ...as])).stdout.trim()).toBe('no');
    const token = (await ok(['create', 'token', 'app', '-n', 'dev'])).trim();
    const denied = await h.kubectl(['get', 'pods', '-n', 'prod', `--token=${token}`]);
    expect(denied.stderr).toContain(
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:dev:app" cannot list resource "pods" in API group "" in the namespace "prod"',
    );
    const allowed = await h.kubectl(['get', 'pods', '-n', 'dev', `--token=${token}`]);
    expect(allowed.code).toBe(0);
    const bad = await h.kubectl(['get', 'pods', '--token=not-a-token']);
    expect(bad.stderr).toMatch(/Unauthorized|must be logged in/);
  });

  it('creates typed objects (protobuf bodies from kubectl ≥ 1.32)', async () => {
    await ok(['create', 'deployment', 'typed', '--image=busybox:1.36', '--replicas=0']);
    expect(await ok(['get', 'deploy', 'typed', '-o', 'jsonpath={.spec.replicas}/{.spec.template.spec.containers[0].image}'])).toBe('0/busybox:1.36');
    await ok(['create', 'secret', 'generic', 'creds', '--from-literal=user=admin']);
    expect(await ok(['get', 'secret', 'creds', '-o', 'jsonpath={.data.user}'])).toBe(Buffer.from('admin').toString('base64'));
    await ok(['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi']);
    expect(await ok(['get', 'job', 'once', '-o', 'jsonpath={.spec.template.spec.containers[0].command}'])).toBe('["echo","hi"]');
  });

  it('reports pod streams that cannot run and deletes objects', async () => {
    await ok(['run', 'lonely', '--image=busybox', '--restart=Never', '--', 'sleep', '1']);
    const logs = await h.kubectl(['logs', 'lonely']);
    expect(logs.stderr).toContain('pod lonely does not have a host assigned');
    expect(await ok(['delete', 'pod', 'lonely'])).toBe('pod "lonely" deleted\n');
    expect(await ok(['delete', 'cm', 'settings'])).toBe('configmap "settings" deleted\n');
    const gone = await h.kubectl(['get', 'cm', 'settings']);
    expect(gone.stderr).toContain('Error from server (NotFound): configmaps "settings" not found');
  });
});

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}
