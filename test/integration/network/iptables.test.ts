/**
 * HostIptables against this machine's iptables (root): the periodic resync's check, `intact`,
 * says yes for what a restore and the jumps put there and no once a chain is flushed, a chain of
 * the prefix is added or a jump removed. A throw-away prefix and a service range no traffic uses.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { HostIptables } from '../../../core/network/proxy/iptables.ts';
import { chainPrefix, jumpRules, renderRules } from '../../../core/network/proxy/iptables-rules.ts';
import type { ServicePortEntry } from '../../../core/network/proxy/model.ts';

const ipt = new HostIptables();
const prefix = chainPrefix(`iptables-test|${process.pid}|${Date.now()}`);
const CIDR = '10.254.253.0/24';
const entry = (endpoints: ServicePortEntry['endpoints']): ServicePortEntry => ({
  id: 'default/web:/TCP', namespace: 'default', name: 'web', portName: '', protocol: 'TCP', clusterIP: '10.254.253.20', port: 80, loadBalancer: false, endpoints,
});
const usable = (await ipt.probe()) === undefined;

afterAll(async () => {
  if (usable) await ipt.removeAll(prefix);
});

describe.skipIf(!usable && process.env.CI !== 'true')('host iptables', () => {
  it('tells intact rules from flushed chains, stray chains and missing jumps', async () => {
    const jumps = jumpRules(prefix, CIDR, '10.254.252.0/24');
    const first = renderRules(prefix, [entry([{ ip: '10.254.252.2', port: 8080 }, { ip: '10.254.252.3', port: 8080 }])]);
    await ipt.restore(first.text);
    await ipt.syncJumps(prefix, jumps);
    expect(await ipt.intact(prefix, first.text, jumps)).toBe(true);

    // One endpoint less: the old endpoint chain is deleted by the new text, and the check follows.
    const second = renderRules(prefix, [entry([{ ip: '10.254.252.2', port: 8080 }])], { nat: first.natChains, filter: first.filterChains });
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(false);
    await ipt.restore(second.text);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(true);

    // Someone flushes a chain.
    const svcChain = second.natChains.find((c) => c.endsWith('-SVC'))!;
    execFileSync('iptables', ['-t', 'nat', '-F', svcChain]);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(false);
    await ipt.restore(second.text);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(true);

    // A jump removed, then put back by syncJumps.
    execFileSync('iptables', ['-t', 'nat', '-D', 'OUTPUT', ...jumps[0]!.rule]);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(false);
    await ipt.syncJumps(prefix, jumps);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(true);

    // A chain of the prefix that the rules do not name.
    execFileSync('iptables', ['-t', 'nat', '-N', `${prefix}-XTRA`]);
    expect(await ipt.intact(prefix, second.text, jumps)).toBe(false);
    // A jump for another pod subnet is not ours any more.
    expect(await ipt.intact(prefix, second.text, jumpRules(prefix, CIDR, '10.254.251.0/24'))).toBe(false);
  });
});
