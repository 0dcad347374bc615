import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isConnectionError, parseHost, resolveDockerEndpoint, unavailableError } from '../../../core/runtime/docker/connect.ts';
import { RuntimeUnavailableError } from '../../../core/runtime/runtime.ts';

const home = mkdtempSync(join(tmpdir(), 'wh-connect-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe('finding the engine like the docker CLI', () => {
  it('defaults to the platform socket', () => {
    expect(resolveDockerEndpoint({ env: {}, home, platform: 'linux' })).toMatchObject({ url: 'unix:///var/run/docker.sock', socketPath: '/var/run/docker.sock', source: 'default' });
    expect(resolveDockerEndpoint({ env: {}, home, platform: 'win32' })).toMatchObject({ url: 'npipe:////./pipe/docker_engine', socketPath: '//./pipe/docker_engine' });
  });

  it('reads DOCKER_HOST: unix, npipe, tcp (with default ports) and bare host:port', () => {
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, home })).toMatchObject({ socketPath: '/run/user/1000/docker.sock', source: 'DOCKER_HOST' });
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'npipe:////./pipe/dockerDesktopLinuxEngine' }, home })).toMatchObject({ socketPath: '//./pipe/dockerDesktopLinuxEngine' });
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' }, home })).toMatchObject({ url: 'tcp://10.0.0.5:2375', host: '10.0.0.5', port: 2375, protocol: 'http' });
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'tcp://docker.local' }, home })).toMatchObject({ port: 2375, protocol: 'http' });
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: '127.0.0.1:2375' }, home })).toMatchObject({ host: '127.0.0.1', port: 2375 });
  });

  it('uses TLS with DOCKER_TLS_VERIFY, reading ca/cert/key from DOCKER_CERT_PATH', () => {
    const certs = join(home, 'certs');
    mkdirSync(certs, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, f), `-- ${f} --`);
    const ep = resolveDockerEndpoint({ env: { DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs }, home });
    expect(ep).toMatchObject({ protocol: 'https', port: 2376 });
    expect(ep.tls?.verify).toBe(true);
    expect(ep.tls?.ca?.toString()).toBe('-- ca.pem --');
    // DOCKER_CERT_PATH without DOCKER_TLS_VERIFY: TLS without verifying the server (docker --tls).
    const noVerify = resolveDockerEndpoint({ env: { DOCKER_HOST: 'tcp://h', DOCKER_CERT_PATH: certs }, home });
    expect(noVerify).toMatchObject({ protocol: 'https', port: 2376 });
    expect(noVerify.tls?.verify).toBe(false);
  });

  it('follows the current docker context (config.json currentContext or DOCKER_CONTEXT)', () => {
    const cfgDir = join(home, '.docker');
    const id = createHash('sha256').update('desktop-linux').digest('hex');
    mkdirSync(join(cfgDir, 'contexts', 'meta', id), { recursive: true });
    writeFileSync(join(cfgDir, 'contexts', 'meta', id, 'meta.json'), JSON.stringify({ Name: 'desktop-linux', Endpoints: { docker: { Host: 'unix:///home/u/.docker/desktop/docker.sock', SkipTLSVerify: false } } }));
    writeFileSync(join(cfgDir, 'config.json'), JSON.stringify({ currentContext: 'desktop-linux' }));
    expect(resolveDockerEndpoint({ env: {}, home })).toMatchObject({ socketPath: '/home/u/.docker/desktop/docker.sock', source: 'context desktop-linux' });
    // DOCKER_HOST wins over the context; DOCKER_CONTEXT=default means the default socket.
    expect(resolveDockerEndpoint({ env: { DOCKER_HOST: 'unix:///x.sock' }, home }).socketPath).toBe('/x.sock');
    expect(resolveDockerEndpoint({ env: { DOCKER_CONTEXT: 'default' }, home, platform: 'linux' }).source).toBe('default');
    expect(resolveDockerEndpoint({ env: { DOCKER_CONTEXT: 'no-such-context' }, home, platform: 'linux' }).source).toBe('default');
  });

  it('refuses unsupported schemes with a clear error', () => {
    expect(() => parseHost('ssh://me@host', 'DOCKER_HOST')).toThrow(RuntimeUnavailableError);
    expect(() => parseHost('ssh://me@host', 'DOCKER_HOST')).toThrow(/ssh:\/\/ endpoints are not supported/);
    expect(() => parseHost('ftp://host', 'DOCKER_HOST')).toThrow(/unsupported scheme "ftp"/);
  });
});

describe('connection errors', () => {
  const ep = resolveDockerEndpoint({ env: {}, home, platform: 'linux' });
  it('tells connection failures from engine replies', () => {
    expect(isConnectionError(Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404 }))).toBe(false);
  });

  it('words the error with the endpoint, the cause and what to do', () => {
    const e = unavailableError(ep, Object.assign(new Error('connect ENOENT /var/run/docker.sock'), { code: 'ENOENT' }));
    expect(e.message).toBe('cannot reach the Docker engine at unix:///var/run/docker.sock: connect ENOENT /var/run/docker.sock; is Docker running?');
    const perm = unavailableError(ep, Object.assign(new Error('connect EACCES /var/run/docker.sock'), { code: 'EACCES' }));
    expect(perm.message).toMatch(/EACCES .*docker" group/);
  });
});
