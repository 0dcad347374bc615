import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../core/api/types.ts';
import ConfirmDialog from '../../renderer/src/components/ConfirmDialog.svelte';
import { startStores } from '../../renderer/src/lib/resources.svelte.ts';
import Nodes from '../../renderer/src/views/Nodes.svelte';
import { allByTestId, cleanup, FakeMain, render, until, useFake } from './harness.ts';

const node = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, disk: 'ssd' }, annotations: { 'wheelhouse.dev/local': 'true' } },
    spec: {},
    status: {
      capacity: { cpu: '4', memory: '8Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
    },
    ...extra,
  }) as KubeObject;

const fake = useFake(new FakeMain().set('Node', [node('node-1'), node('node-2', { spec: { unschedulable: true, taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] } })]));
fake.handle('nodes.cordon', () => null).handle('nodes.uncordon', () => null);
startStores();

afterEach(cleanup);

describe('Nodes view', () => {
  it('shows one card per node with its state, taints and labels', async () => {
    const { target } = render(Nodes);
    const cards = await until('two node cards', () => (allByTestId(target, 'node-card').length === 2 ? allByTestId(target, 'node-card') : undefined));
    expect(cards[0]!.textContent).toContain('node-1');
    expect(cards[0]!.textContent).toContain('Ready');
    expect(cards[0]!.textContent).toContain('disk=ssd');
    expect(cards[1]!.textContent).toContain('Cordoned');
    expect(cards[1]!.textContent).toContain('gpu=yes:NoSchedule');
  });

  it('cordons a node and uncordons a cordoned one', async () => {
    const { target } = render(Nodes);
    render(ConfirmDialog);
    const cards = await until('cards', () => (allByTestId(target, 'node-card').length === 2 ? allByTestId(target, 'node-card') : undefined));
    const button = (card: HTMLElement, label: string) => [...card.querySelectorAll('button')].find((b) => b.textContent?.trim() === label)!;
    button(cards[0]!, 'Cordon').click();
    await until('the cordon call', () => fake.callsOf('nodes.cordon').length === 1);
    expect(fake.callsOf('nodes.cordon')[0]).toEqual({ name: 'node-1' });
    button(cards[1]!, 'Uncordon').click();
    await until('the uncordon call', () => fake.callsOf('nodes.uncordon').length === 1);
    expect(fake.callsOf('nodes.uncordon')[0]).toEqual({ name: 'node-2' });
  });

  it('follows pushed changes without a reload', async () => {
    const { target } = render(Nodes);
    await until('cards', () => allByTestId(target, 'node-card').length === 2);
    fake.push('Node', [node('node-3')]);
    await until('a third card', () => allByTestId(target, 'node-card').length === 3);
    fake.push('Node', [], [{ name: 'node-3' }]);
    await until('back to two', () => allByTestId(target, 'node-card').length === 2);
  });
});
