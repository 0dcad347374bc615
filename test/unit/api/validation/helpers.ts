/** Builders and matchers shared by the validation tests. */
import { expect } from 'vitest';
import type { FieldError } from '../../../../core/api/errors.ts';
import type { KubeObject } from '../../../../core/api/types.ts';

export type Cause = 'Required' | 'Invalid' | 'Duplicate' | 'NotSupported' | 'Forbidden' | 'TooLong' | 'NotFound';

/** `[field, cause]` pairs, for compact exact comparisons. */
export function causes(errs: FieldError[]): Array<[string, Cause]> {
  return errs.map((e) => [e.field, e.type.replace(/^FieldValue/, '') as Cause]);
}

/** The errors contain exactly one at `field`, of the given cause; returns it. */
export function expectOne(errs: FieldError[], field: string, cause: Cause): FieldError {
  const at = errs.filter((e) => e.field === field);
  expect(causes(at), `errors at ${field} (all: ${JSON.stringify(causes(errs))})`).toEqual([[field, cause]]);
  return at[0]!;
}

export function container(over: Record<string, unknown> = {}): Record<string, any> {
  return { name: 'app', image: 'nginx:1.25', ...over };
}

export function podSpec(over: Record<string, unknown> = {}): Record<string, any> {
  return { containers: [container()], ...over };
}

export function pod(spec: Record<string, unknown> = podSpec(), name = 'web'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec };
}

export function template(labels: Record<string, string> = { app: 'web' }, spec: Record<string, unknown> = podSpec()) {
  return { metadata: { labels }, spec };
}

export function deployment(spec: Record<string, unknown> = {}, name = 'web'): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: template(), ...spec },
  };
}

export function obj(apiVersion: string, kind: string, body: Record<string, unknown> = {}, name = 'x'): KubeObject {
  return { apiVersion, kind, metadata: { name }, ...body };
}

/** Every error is at `field` with `cause`, and there is at least one (Kubernetes lists one per message). */
export function expectOnly(errs: FieldError[], field: string, cause: Cause): void {
  expect(errs.length, JSON.stringify(causes(errs))).toBeGreaterThan(0);
  expect(new Set(causes(errs).map((c) => c.join(' ')))).toEqual(new Set([`${field} ${cause}`]));
}
