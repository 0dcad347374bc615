/**
 * Browser mode's server: the app only with its token, assets without secrets, no path traversal,
 * requests it does not claim left to the next handler (the Kubernetes API shares the port), and
 * the contract over a WebSocket that needs the token and the same origin.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDesktopServer, CSP, type DesktopServer } from '../../../core/desktop/browser-server.ts';
import { harness, type Harness } from './helpers.ts';

const TOKEN = 'test-token-0123456789abcdef';
let h: Harness;
let ui: DesktopServer;
let server: Server;
let port: number;
let staticDir: string;
const passedOn: string[] = [];

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    })
      .on('error', reject)
      .end();
  });
}

function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

beforeAll(async () => {
  h = await harness();
  staticDir = mkdtempSync(join(tmpdir(), 'wh-ui-static-'));
  mkdirSync(join(staticDir, 'assets'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>Wheelhouse</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(staticDir, 'favicon.svg'), '<svg/>');
  writeFileSync(join(tmpdir(), 'outside.txt'), 'secret');
  ui = createDesktopServer(h.cluster, { token: TOKEN, staticDir });
  server = createServer((req, res) => {
    if (ui.handleRequest(req, res)) return;
    passedOn.push(req.url ?? '');
    res.writeHead(418);
    res.end();
  });
  server.on('upgrade', (req, sock, head) => {
    if (!ui.handleUpgrade(req, sock, head)) sock.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await ui?.close();
  server?.closeAllConnections();
  await new Promise<void>((r) => server?.close(() => r()));
  await h?.close();
  rmSync(staticDir, { recursive: true, force: true });
});

describe('browser-mode HTTP', () => {
  it('serves the app only with the token, with a CSP', async () => {
    expect((await get('/', { Accept: 'text/html' })).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    const ok = await get(`/?token=${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('<title>Wheelhouse</title>');
    expect(ok.headers['content-security-policy']).toBe(CSP);
    expect(ok.headers['cache-control']).toBe('no-store');
  });

  it('serves assets, refuses traversal, and leaves other paths to the next handler', async () => {
    const js = await get('/assets/app.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await get('/favicon.svg')).status).toBe(200);
    expect((await get('/assets/../../outside.txt')).status).not.toBe(200);
    const encoded = await get('/assets/%2e%2e/%2e%2e/outside.txt'); // normalized by the URL parser to /outside.txt: not ours
    expect(encoded.status).not.toBe(200);
    expect(encoded.body).not.toContain('secret');
    expect((await get('/assets/missing.js')).status).toBe(404);
    passedOn.length = 0;
    expect((await get('/api/v1/pods')).status).toBe(418);
    expect((await get('/healthz')).status).toBe(418);
    // `/` as JSON is the Kubernetes API's root document.
    expect((await get('/', { Accept: 'application/json' })).status).toBe(418);
    expect(passedOn).toEqual(['/api/v1/pods', '/healthz', '/']);
  });
});

describe('browser-mode WebSocket', () => {
  it('refuses a missing or wrong token and another origin', async () => {
    await expect(connect('/wheelhouse/ws')).rejects.toThrow(/401/);
    await expect(connect('/wheelhouse/ws?token=nope')).rejects.toThrow(/401/);
    await expect(connect(`/wheelhouse/ws?token=${TOKEN}`, { Origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('carries calls, errors as envelopes, and pushed events', async () => {
    const ws = await connect(`/wheelhouse/ws?token=${TOKEN}`, { Origin: `http://127.0.0.1:${port}` });
    const messages: any[] = [];
    ws.on('message', (d) => messages.push(JSON.parse(String(d))));
    const answer = async (id: number) => {
      for (let i = 0; i < 200 && !messages.some((m) => m.id === id); i++) await new Promise((r) => setTimeout(r, 10));
      return messages.find((m) => m.id === id);
    };
    ws.send(JSON.stringify({ id: 1, call: 'cluster.info', args: {} }));
    expect((await answer(1)).result).toMatchObject({ mode: 'browser', runtime: null });
    ws.send(JSON.stringify({ id: 2, call: 'nodes.cordon', args: { name: 'Not A Name' } }));
    expect((await answer(2)).error).toMatchObject({ reason: 'BadRequest', details: { field: 'args.name' } });
    ws.send(JSON.stringify({ id: 3, call: 'resources.get', args: { kind: 'Namespace', name: 'nope' } }));
    expect((await answer(3)).error).toMatchObject({ reason: 'NotFound' });
    ws.send('not json');
    expect((await answer(-1)).error.reason).toBe('BadRequest');
    ws.send(JSON.stringify({ id: 4, call: 'resources.watch', args: { kind: 'Namespace' } }));
    const w = (await answer(4)).result;
    await h.cluster.client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pushed' } });
    for (let i = 0; i < 200 && !messages.some((m) => m.event === 'watch.batch'); i++) await new Promise((r) => setTimeout(r, 10));
    const batch = messages.find((m) => m.event === 'watch.batch');
    expect(batch.payload.changes[0]).toMatchObject({ watchId: w.watchId, upserts: [{ metadata: { name: 'pushed' } }] });
    expect(ui.connections).toBe(1);
    ws.close();
    for (let i = 0; i < 100 && ui.connections > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(ui.connections).toBe(0);
    expect(ui.host.sessionCount).toBe(0); // the closed socket's session is gone
  });
});
