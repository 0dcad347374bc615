import { describe, expect, it } from 'vitest';
import { InvalidImageRefError, parseImageRef } from '../../../core/runtime/docker/image-ref.ts';
import { registryAuthForImage, registryAuthsForImage } from '../../../core/runtime/docker/registry-auth.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36', 'busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest', 'busybox:latest'],
    ['index.docker.io/library/busybox:1', 'docker.io/library/busybox:1', 'busybox:1'],
    ['user/app:2', 'docker.io/user/app:2', 'user/app:2'],
    ['ghcr.io/org/team/app:v1.2.3', 'ghcr.io/org/team/app:v1.2.3', 'ghcr.io/org/team/app:v1.2.3'],
    ['localhost/app', 'localhost/app:latest', 'localhost/app:latest'],
    ['localhost:5000/app', 'localhost:5000/app:latest', 'localhost:5000/app:latest'],
    ['registry.local:5000/a/b:c', 'registry.local:5000/a/b:c', 'registry.local:5000/a/b:c'],
    ['[::1]:5000/app:1', '[::1]:5000/app:1', '[::1]:5000/app:1'],
    [`busybox@${DIGEST}`, `docker.io/library/busybox@${DIGEST}`, `busybox@${DIGEST}`],
    [`quay.io/x/y:1@${DIGEST}`, `quay.io/x/y:1@${DIGEST}`, `quay.io/x/y:1@${DIGEST}`],
    ['my_app/sub-part.x__y:TAG_1', 'docker.io/my_app/sub-part.x__y:TAG_1', 'my_app/sub-part.x__y:TAG_1'],
  ])('%s → %s', (ref, normalized, familiar) => {
    const r = parseImageRef(ref);
    expect(r.normalized).toBe(normalized);
    expect(r.familiar).toBe(familiar);
  });

  it('splits the parts; a digest gets no default tag', () => {
    expect(parseImageRef('localhost:5000/team/app')).toMatchObject({ domain: 'localhost:5000', path: 'team/app', tag: 'latest', repository: 'localhost:5000/team/app' });
    const d = parseImageRef(`busybox@${DIGEST}`);
    expect(d.tag).toBeUndefined();
    expect(d.digest).toBe(DIGEST);
  });

  it('an uppercase first component is a registry host, as in Docker; an uppercase path is invalid', () => {
    expect(parseImageRef('Upper/app')).toMatchObject({ domain: 'Upper', path: 'app' });
    expect(() => parseImageRef('docker.io/Upper/app')).toThrow(/must be lowercase/);
  });

  it.each(['', ' busybox', 'busybox:', 'busybox:-bad', 'a//b', 'app@sha256:short', 'UPPER', 'bad_/x', `x:${'t'.repeat(129)}`])(
    'rejects %j',
    (ref) => {
      expect(() => parseImageRef(ref)).toThrow(InvalidImageRefError);
    },
  );
});

describe('registry credentials from imagePullSecrets', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const secret = JSON.stringify({
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
      'ghcr.io': { username: 'gh', password: 'ghpass' },
      'registry.example.com:5000': { auth: b64('port:pw:with:colons') },
      'quay.io': { username: 'quay-all', password: 'a' },
      'quay.io/team': { username: 'quay-team', password: 'b' },
      '*.corp.example': { username: 'glob', password: 'g' },
      'broken.example': { email: 'nobody@example.com' },
    },
  });

  it.each([
    ['busybox', 'hubuser', 'https://index.docker.io/v1/'],
    ['docker.io/someone/app:1', 'hubuser', 'https://index.docker.io/v1/'],
    ['ghcr.io/org/app:1', 'gh', 'ghcr.io'],
    ['registry.example.com:5000/app', 'port', 'registry.example.com:5000'],
    ['quay.io/team/app', 'quay-team', 'quay.io'],
    ['quay.io/other/app', 'quay-all', 'quay.io'],
    ['images.corp.example/app', 'glob', 'images.corp.example'],
  ])('%s → %s', (image, username, serverAddress) => {
    expect(registryAuthForImage(secret, image)).toMatchObject({ username, serverAddress });
  });

  it('decodes `auth` with colons in the password', () => {
    expect(registryAuthForImage(secret, 'registry.example.com:5000/app')).toEqual({ username: 'port', password: 'pw:with:colons', serverAddress: 'registry.example.com:5000' });
  });

  it('no match: undefined (pull anonymously); port and host components must match exactly', () => {
    expect(registryAuthForImage(secret, 'registry.example.com/app')).toBeUndefined(); // no port
    expect(registryAuthForImage(secret, 'a.b.corp.example/app')).toBeUndefined(); // * is one component
    expect(registryAuthForImage(secret, 'broken.example/app')).toBeUndefined(); // no credentials in entry
    expect(registryAuthForImage('not json', 'busybox')).toBeUndefined();
  });

  it('lists every match, most specific first, across several secrets; reads legacy .dockercfg', () => {
    const legacy = { 'quay.io': { auth: b64('legacy:x') } };
    const all = registryAuthsForImage([secret, legacy], 'quay.io/team/app');
    expect(all.map((a) => a.username)).toEqual(['quay-team', 'quay-all', 'legacy']);
    expect(registryAuthForImage(Buffer.from(JSON.stringify({ auths: { 'docker.io': { username: 'u', password: 'p' } } })), 'nginx')).toMatchObject({ username: 'u' });
  });
});
