/**
 * The Services view end to end, in headless Chromium against browser mode with the real core and
 * Docker: a web Deployment behind a NodePort Service and two LoadBalancers fighting over one host
 * port; the list shows 1/1 ready endpoints, the external address and the collision; the details
 * show the endpoint, DNS names and an Open link that answers; a port-forward to the service port
 * serves the page to this process; delete asks first. Screenshots in test-results/screenshots/.
 */
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../core/api/types.ts';
import { BUSYBOX, eventually, goTo, startE2E, type E2E } from './helpers.ts';

let e: E2E;
let lbPort = 0;

const NS = 'default';
const SVC = { apiVersion: 'v1', kind: 'Service' } as const;

function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .setTimeout(5_000, function (this: { destroy(e: Error): void }) {
        this.destroy(new Error(`GET ${url} timed out`));
      })
      .end();
  });
}

/** A port free on 127.0.0.1 right now (for the LoadBalancers). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ host: '127.0.0.1', port: 0 }, () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const service = (name: string, spec: Record<string, unknown>): KubeObject => ({ ...SVC, metadata: { name, namespace: NS }, spec }) as KubeObject;

beforeAll(async () => {
  e = await startE2E('svc');
  await e.page.goto(`${e.bm.url}#/overview`);
  await e.page.getByTestId('overview-nodes').waitFor();
  lbPort = await freePort();
  await e.cluster.client.create({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'web',
              image: BUSYBOX,
              command: ['sh', '-c', 'mkdir -p /www && echo "<h1>served by $HOSTNAME</h1>" > /www/index.html && exec httpd -f -p 8080 -h /www'],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  } as KubeObject);
  await e.cluster.client.create(service('web', { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }));
  await e.cluster.client.create(service('web-lb', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: lbPort, targetPort: 8080 }] }));
  // Created later, so the older one keeps the port: this one reports the collision.
  await new Promise((r) => setTimeout(r, 1_100));
  await e.cluster.client.create(service('web-lb-2', { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: lbPort, targetPort: 8080 }] }));
});

afterAll(async () => {
  await e?.close();
});

describe('services list', () => {
  it('shows the Services with their ready endpoints, external addresses and a port that could not be bound', async () => {
    // Keyboard: g s goes to the Services.
    await e.page.locator('body').click({ position: { x: 5, y: 5 } });
    await e.page.keyboard.press('g');
    await e.page.keyboard.press('s');
    await e.page.getByTestId('service-table').waitFor();
    const web = e.page.locator('[data-testid=service-row][data-name=web]');
    await eventually('web with 1/1 ready endpoints', async () => (await web.getByTestId('endpoints').textContent())?.trim() === '1/1', 90_000);
    const text = (await web.textContent()) ?? '';
    expect(text).toContain('NodePort');
    expect(text).toMatch(/80:3\d{4}\/TCP → http/);
    const lb = e.page.locator('[data-testid=service-row][data-name=web-lb]');
    await eventually('the LoadBalancer address', async () => (await lb.getByTestId('external-link').textContent())?.trim() === `127.0.0.1:${lbPort}`);
    expect(await lb.getByTestId('port-warning').count()).toBe(0);
    const lb2 = e.page.locator('[data-testid=service-row][data-name=web-lb-2]');
    await eventually('the collision marker', async () => (await lb2.getByTestId('port-warning').count()) === 1, 30_000);
    expect(await lb2.getByTestId('port-warning').getAttribute('title')).toContain('already used by service default/web-lb');
    // The kube-dns Service of the cluster DNS is there too (all namespaces).
    expect(await e.page.locator('[data-testid=service-row][data-name=kube-dns]').count()).toBe(1);
    await e.shot('svc-01-list');
    await e.page.getByTestId('theme-toggle').click();
    await e.page.waitForTimeout(300);
    await e.shot('svc-01-list-dark');
    await e.page.getByTestId('theme-toggle').click();
    // The filter box: / focuses it, typing narrows, Enter opens the first row.
    await e.page.locator('body').click({ position: { x: 5, y: 5 } });
    await e.page.keyboard.press('/');
    await e.page.keyboard.type('lb-2');
    await eventually('one row left', async () => (await e.page.getByTestId('service-row').count()) === 1);
    await e.page.getByTestId('service-filter').fill('');
  });
});

describe('service details', () => {
  let localUrl = '';

  it('opens a row and shows the endpoint, DNS names and a working Open link for the node port', async () => {
    await e.page.locator('[data-testid=service-row][data-name=web]').click();
    await eventually('the details', async () => (await e.page.getByTestId('service-title').textContent()) === 'web');
    const endpoint = e.page.locator('[data-testid=endpoint][data-ready=true]');
    await endpoint.waitFor();
    const pod = (await e.cluster.client.list({ apiVersion: 'v1', kind: 'Pod', namespace: NS }, { labelSelector: 'app=web' })).items[0]!;
    expect(await endpoint.textContent()).toContain(pod.metadata.name);
    expect(await endpoint.textContent()).toContain(pod.status?.podIP);
    expect(await e.page.getByTestId('service-dns').textContent()).toContain('web.default.svc.cluster.local');
    const svc = await e.cluster.client.get<KubeObject>({ ...SVC, namespace: NS, name: 'web' });
    const nodePort = svc.spec?.ports[0].nodePort as number;
    const open = e.page.getByTestId(`open-${nodePort}`);
    expect(await open.getAttribute('href')).toBe(`http://127.0.0.1:${nodePort}/`);
    expect(await open.getAttribute('target')).toBe('_blank');
    const res = await eventually('the node port to answer', () => get(`http://127.0.0.1:${nodePort}/`).catch(() => undefined), 30_000);
    expect(res.status).toBe(200);
    expect(res.body).toContain(`served by ${pod.metadata.name}`);
  });

  it('port-forwards to the service port and serves the page to this process', async () => {
    await e.page.getByTestId('forward-80').click();
    const link = e.page.getByTestId('open-in-browser');
    await link.waitFor();
    localUrl = (await link.getAttribute('href'))!;
    expect(localUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await e.page.getByTestId('port-forward').textContent()).toContain('→ web:80');
    const res = await get(localUrl);
    expect(res.status).toBe(200);
    expect(res.body).toContain('served by web-');
    await e.page.waitForTimeout(300);
    await e.shot('svc-02-details');
    // Reloading the page lists the forward again (forwards belong to the host).
    await e.page.reload();
    await e.page.getByTestId('port-forward').waitFor();
    await e.page.getByTestId('stop-forward').click();
    await eventually('the forward closed', async () => (await e.page.getByTestId('port-forward').count()) === 0);
    await expect(get(localUrl)).rejects.toThrow();
  });

  it('shows the collision on the LoadBalancer that lost the port', async () => {
    await goTo(e.page, `#/services/${NS}/web-lb-2`);
    await e.page.getByTestId('port-error').waitFor();
    expect(await e.page.getByTestId('port-error').textContent()).toContain(`Port ${lbPort}/TCP is not bound`);
    await e.page.waitForTimeout(300);
    await e.shot('svc-03-collision');
  });

  it('deletes the Service after a confirmation', async () => {
    await goTo(e.page, `#/services/${NS}/web-lb-2`);
    await e.page.getByTestId('delete-service').click();
    await e.page.getByTestId('confirm-dialog').waitFor();
    await e.page.getByTestId('confirm-ok').click();
    await e.page.getByTestId('service-table').waitFor();
    await eventually('the row gone', async () => (await e.page.locator('[data-testid=service-row][data-name=web-lb-2]').count()) === 0);
    await expect(e.cluster.client.get({ ...SVC, namespace: NS, name: 'web-lb-2' })).rejects.toThrow();
    expect(e.errors, `errors in the page: ${e.errors.join(" | ")}`).toEqual([]);
  });
});
