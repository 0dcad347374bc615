import { describe, expect, it } from 'vitest';
import { EventTTLController } from '../../../core/controllers/event-ttl-controller.ts';
import { harness } from './helpers.ts';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
const event = (name: string, at: number, field: 'lastTimestamp' | 'eventTime' = 'lastTimestamp') => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name, namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test', message: name, type: 'Normal',
  ...(field === 'lastTimestamp' ? { lastTimestamp: iso(at), firstTimestamp: iso(at) } : { eventTime: new Date(at).toISOString(), reportingComponent: 'x', reportingInstance: 'y', action: 'A' }),
});

describe('event expiry (--event-ttl)', () => {
  it('deletes events last updated more than the TTL ago, across pages, and keeps the rest', async () => {
    const now = Date.parse('2026-11-28T12:00:00Z');
    let ctl!: EventTTLController;
    const h = await harness([(ctx) => (ctl = new EventTTLController(ctx))], { eventTTLSeconds: 3600 }, () => new Date(now));
    try {
      for (let i = 0; i < 620; i++) await h.client.create(event(`old-${i}`, now - 2 * 3600_000) as any);
      await h.client.create(event('old-eventtime', now - 3601_000, 'eventTime') as any);
      await h.client.create(event('fresh', now - 60_000) as any);
      await h.client.create(event('edge', now - 3599_000) as any);
      await ctl.sweep();
      const left = (await h.client.list({ apiVersion: 'v1', kind: 'Event' }, { namespace: 'default' })).items.map((e) => e.metadata.name).sort();
      expect(left).toEqual(['edge', 'fresh']);
    } finally {
      await h.close();
    }
  });
});
