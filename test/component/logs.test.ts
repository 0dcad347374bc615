import { afterEach, describe, expect, it } from 'vitest';
import LogViewer from '../../renderer/src/components/LogViewer.svelte';
import { byTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

const fake = useFake(new FakeMain());
afterEach(cleanup);

const line = (pod: string, text: string, time: string) => ({ pod, container: 'web', stream: 'stdout' as const, line: text, time });

describe('LogViewer', () => {
  it("keeps the lines that arrive before logs.open's answer names the stream", async () => {
    fake.handle('logs.open', async () => {
      // The main process reads the first pods while it still opens the others: their lines can
      // be pushed before the call's answer.
      fake.emit('logs.batch', { streams: [{ streamId: 'l1', lines: [line('web-a', 'hello from web-a', '2026-01-01T00:00:01Z')] }] });
      fake.emit('logs.batch', { streams: [{ streamId: 'other', lines: [line('x', 'not this stream', '2026-01-01T00:00:01Z')] }] });
      return { streamId: 'l1', sources: [{ pod: 'web-a', container: 'web' }, { pod: 'web-b', container: 'web' }], errors: [] };
    });
    const { target } = render(LogViewer, { target: { namespace: 'default', workload: { kind: 'Deployment' as const, name: 'web' } } });
    const box = () => byTestId(target, 'log-lines')!.textContent ?? '';
    await until('the early line', () => box().includes('hello from web-a'));
    fake.emit('logs.batch', { streams: [{ streamId: 'l1', lines: [line('web-b', 'hello from web-b', '2026-01-01T00:00:02Z')] }] });
    await until('the later line', () => box().includes('hello from web-b'));
    expect(box()).not.toContain('not this stream');
  });

  it('shows an end that came before the answer', async () => {
    fake.handle('logs.open', async () => {
      fake.emit('logs.batch', { streams: [{ streamId: 'l2', lines: [line('p', 'last words', '2026-01-01T00:00:01Z')] }] });
      fake.emit('logs.end', { streamId: 'l2', error: 'p/web: gone' });
      return { streamId: 'l2', sources: [{ pod: 'p', container: 'web' }], errors: [] };
    });
    const { target } = render(LogViewer, { target: { namespace: 'default', pod: 'p' } });
    await until('the line', () => (byTestId(target, 'log-lines')!.textContent ?? '').includes('last words'));
    await until('the end', () => (target.textContent ?? '').includes('ended: p/web: gone'));
  });
});
