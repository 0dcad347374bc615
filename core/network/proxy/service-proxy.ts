/**
 * The service proxy (kube-proxy for a desktop cluster). It watches Services and Endpoints and
 * keeps two data paths in step with them:
 *
 *  - cluster IPs, in the kernel: iptables DNAT rules in the host's network namespace, which every
 *    pod's traffic to a service IP crosses on its way out of the cluster bridge (and the desktop's
 *    own traffic, through OUTPUT). Needs root on a Linux host with a local engine; without that
 *    the proxy runs in `userspace` mode, where only the host-side paths below work.
 *  - NodePort and LoadBalancer ports on 127.0.0.1 (user-space relays, see host-ports.ts), which
 *    follow the service's ready endpoints as pods come and go.
 *
 * Changes are applied as they arrive, coalesced: a burst of endpoint updates costs one
 * iptables-restore; a readiness change reaches the rules in milliseconds. A periodic resync
 * checks the host still holds everything (one iptables-save) and re-applies it when not (rules
 * flushed by someone else, a re-created cluster network).
 */
import type { KubeObject } from '../../api/types.ts';
import type { Client } from '../../client/client.ts';
import { EventRecorder } from '../../client/event-recorder.ts';
import { Informer } from '../../controllers/informer.ts';
import { log } from '../../log.ts';
import { HostPorts, type HostPortError } from './host-ports.ts';
import { HostIptables, type IptablesRunner } from './iptables.ts';
import { chainPrefix, jumpRules, renderRules } from './iptables-rules.ts';
import { buildServicePorts, type ServicePortEntry } from './model.ts';

export interface ServiceProxyOptions {
  client: Client;
  /** Identifies this cluster's rules among others on the host (cluster name + data folder). */
  clusterId: string;
  serviceCIDR: string;
  /** The pod network's subnet (re-read at every full resync: the network may be re-created). */
  podSubnet?: () => Promise<string | undefined>;
  /** Subnets of the engine's networks now: rules of clusters whose pod network is gone are removed at start. */
  liveSubnets?: () => Promise<string[]>;
  /** Where NodePort and LoadBalancer ports listen; default 127.0.0.1 (other interfaces are an explicit choice). */
  hostAddress?: string;
  /** iptables runner; false: user-space only. Default: the host's iptables when usable. */
  iptables?: IptablesRunner | false;
  /** Full resync period; default 30 s. */
  resyncMs?: number;
}

export type ProxyMode = 'iptables' | 'userspace';

const SVC = { apiVersion: 'v1', kind: 'Service' };
const EP = { apiVersion: 'v1', kind: 'Endpoints' };

export class ServiceProxy {
  readonly prefix: string;
  private readonly services: Informer;
  private readonly endpoints: Informer;
  /** Its Service and Endpoints caches (cluster DNS reads them too). */
  readonly informers: { services: Informer; endpoints: Informer };
  private readonly hostPorts: HostPorts;
  private readonly recorder: EventRecorder;
  private iptables?: IptablesRunner;
  private modeReason = '';
  private entries: ServicePortEntry[] = [];
  private written = { nat: [] as string[], filter: [] as string[] };
  private subnet: string | undefined;
  private jumpsFor: string | undefined | null = null;
  /** The rule text last restored with success (and jumps synced for `jumpsFor`). */
  private applied: string | undefined;
  private running = false;
  private dirty = false;
  private full = true;
  private syncing?: Promise<void>;
  private resyncTimer?: NodeJS.Timeout;
  private stopped = false;
  private readonly reported = new Map<string, string>();
  private readonly idleWaiters: Array<() => void> = [];
  /** Time of the last completed sync (ms since epoch), for tests and the UI. */
  lastSyncAt = 0;

  constructor(private readonly opts: ServiceProxyOptions) {
    this.prefix = chainPrefix(opts.clusterId);
    this.services = new Informer(opts.client, SVC);
    this.endpoints = new Informer(opts.client, EP);
    this.informers = { services: this.services, endpoints: this.endpoints };
    this.hostPorts = new HostPorts(opts.hostAddress ?? '127.0.0.1');
    this.recorder = new EventRecorder(opts.client, { component: 'service-proxy' });
    const changed = () => this.schedule(false);
    for (const inf of [this.services, this.endpoints]) inf.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  get mode(): ProxyMode {
    return this.iptables ? 'iptables' : 'userspace';
  }

  /** Why the proxy runs in user-space mode ('' in iptables mode). */
  get userspaceReason(): string {
    return this.modeReason;
  }

  async start(): Promise<void> {
    const runner = this.opts.iptables === false ? undefined : (this.opts.iptables ?? new HostIptables());
    if (runner) {
      const why = await runner.probe();
      if (why === undefined) this.iptables = runner;
      else this.modeReason = why;
    } else this.modeReason = 'iptables mode turned off';
    if (this.iptables) {
      await this.removeDeadClusters();
      // Chains an earlier run left behind are ours to replace.
      this.written = { nat: await this.iptables.chains('nat', this.prefix), filter: await this.iptables.chains('filter', this.prefix) };
    } else {
      log.warn('service proxy in user-space mode: cluster IPs are not reachable from pods; NodePort, LoadBalancer and port-forward work', { reason: this.modeReason });
    }
    await Promise.all([this.services.start(), this.endpoints.start()]);
    this.schedule(true);
    await this.idle();
    const period = this.opts.resyncMs ?? 30_000;
    this.resyncTimer = setInterval(() => this.schedule(true), period);
    this.resyncTimer.unref();
  }

  /**
   * Rules left by clusters that are gone (a test run killed, a data folder deleted) would catch
   * traffic meant for a cluster that now has their pod subnet or service range: remove those whose
   * pod subnet is ours now or belongs to no network of the engine.
   */
  private async removeDeadClusters(): Promise<void> {
    if (!this.iptables) return;
    const mine = this.opts.podSubnet ? await this.opts.podSubnet().catch(() => undefined) : undefined;
    const live = this.opts.liveSubnets ? await this.opts.liveSubnets().catch(() => undefined) : undefined;
    for (const c of await this.iptables.clusters()) {
      if (c.prefix === this.prefix || !c.podSubnet) continue;
      if (c.podSubnet === mine || (live && !live.includes(c.podSubnet))) {
        log.info('removing the service rules of a cluster that is gone', { chains: c.prefix, podSubnet: c.podSubnet });
        await this.iptables.removeAll(c.prefix).catch((e) => log.warn('stale rules not removed', { chains: c.prefix, error: (e as Error).message }));
      }
    }
  }

  /**
   * Stop watching and close the host ports. Rules stay (pods keep reaching each other while the
   * app is closed, as with kube-proxy) unless `removeRules`.
   */
  async stop(opts: { removeRules?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.resyncTimer);
    this.services.stop();
    this.endpoints.stop();
    await this.syncing;
    await this.hostPorts.close();
    if (opts.removeRules && this.iptables) await this.iptables.removeAll(this.prefix);
    await this.recorder.flush();
  }

  /** Resolves when no sync is pending or running. */
  idle(): Promise<void> {
    if (!this.running && !this.dirty) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  /** The service ports as last programmed. */
  servicePorts(): readonly ServicePortEntry[] {
    return this.entries;
  }

  /** Host ports bound for NodePort/LoadBalancer services (`TCP/30080` …). */
  boundHostPorts(): string[] {
    return this.hostPorts.bound();
  }

  private schedule(full: boolean): void {
    if (this.stopped) return;
    this.full ||= full;
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (this.dirty && !this.stopped) {
      this.dirty = false;
      const full = this.full;
      this.full = false;
      this.syncing = this.sync(full).catch((e) => {
        log.warn('service proxy sync failed; retrying', { error: (e as Error).message });
        setTimeout(() => this.schedule(true), 1000).unref();
      });
      await this.syncing;
    }
    this.running = false;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async sync(full: boolean): Promise<void> {
    const entries = buildServicePorts(this.services.list(), (ns, n) => this.endpoints.get(`${ns}/${n}`));
    this.entries = entries;
    if (this.iptables) {
      if (full && this.opts.podSubnet) this.subnet = await this.opts.podSubnet().catch(() => this.subnet);
      const rendered = renderRules(this.prefix, entries, this.written);
      const jumps = jumpRules(this.prefix, this.opts.serviceCIDR, this.subnet);
      const jumpsCurrent = this.jumpsFor === (this.subnet ?? undefined);
      const jumpsDue = full || !jumpsCurrent;
      // Nothing new to write (a change that moves no rule, a periodic resync of the same rules):
      // a resync only checks that the host still holds them, in one process instead of three.
      const same = rendered.text === this.applied && jumpsCurrent;
      if (!same || (full && !(await this.iptables.intact(this.prefix, rendered.text, jumps).catch(() => false)))) {
        this.applied = undefined;
        await this.iptables.restore(rendered.text);
        this.written = { nat: rendered.natChains, filter: rendered.filterChains };
        if (jumpsDue) {
          await this.iptables.syncJumps(this.prefix, jumps);
          this.jumpsFor = this.subnet;
        }
        this.applied = rendered.text;
      }
    }
    const errors = await this.hostPorts.sync(entries);
    await this.report(errors);
    this.lastSyncAt = Date.now();
  }

  /** LoadBalancer status (ingress on the host address, per-port errors) and events for ports that could not be bound. */
  private async report(errors: HostPortError[]): Promise<void> {
    const byService = new Map<string, HostPortError[]>();
    for (const e of errors) {
      const key = e.entryId.slice(0, e.entryId.indexOf(':'));
      byService.set(key, [...(byService.get(key) ?? []), e]);
    }
    const now = new Set<string>();
    for (const e of errors) {
      const k = `${e.entryId}|${e.kind}`;
      now.add(k);
      if (this.reported.get(k) === e.message) continue;
      this.reported.set(k, e.message);
      const svc = this.services.get(e.entryId.slice(0, e.entryId.indexOf(':')));
      if (svc) this.recorder.event(svc, 'Warning', 'FailedToBindPort', e.message);
    }
    for (const k of [...this.reported.keys()]) if (!now.has(k)) this.reported.delete(k);

    const address = this.opts.hostAddress && this.opts.hostAddress !== '0.0.0.0' ? this.opts.hostAddress : '127.0.0.1';
    for (const svc of this.services.list()) {
      if (svc.spec?.type !== 'LoadBalancer') {
        // No longer a LoadBalancer: its ingress goes (kubectl would still show it).
        if (svc.status?.loadBalancer?.ingress?.length) await this.writeStatus(svc, {});
        continue;
      }
      const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
      const errs = (byService.get(key) ?? []).filter((e) => e.kind === 'loadBalancer');
      const ingress: any = { ip: address, ipMode: 'VIP' };
      if (errs.length) ingress.ports = errs.map((e) => ({ port: e.port, protocol: e.protocol, error: e.message }));
      const want = { ingress: [ingress] };
      if (JSON.stringify(svc.status?.loadBalancer ?? {}) === JSON.stringify(want)) continue;
      await this.writeStatus(svc, want);
    }
  }

  private async writeStatus(svc: KubeObject, loadBalancer: unknown): Promise<void> {
    try {
      // Unconditional (no resourceVersion): the proxy owns status.loadBalancer on the desktop.
      const next = { ...structuredClone(svc), status: { ...(svc.status ?? {}), loadBalancer } };
      delete next.metadata.resourceVersion;
      await this.opts.client.updateStatus(next);
    } catch (e) {
      log.debug('load balancer status not written', { service: svc.metadata.name, error: (e as Error).message });
    }
  }
}
