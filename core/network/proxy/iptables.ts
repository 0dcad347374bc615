/**
 * Runs the host's iptables for the service proxy: applies a rendered rule set atomically with
 * `iptables-restore --noflush` (only this cluster's chains are touched), keeps the jump rules in
 * the built-in chains, and removes everything of a cluster on request. Needs root (CAP_NET_ADMIN)
 * and a local Linux engine; `probe()` says whether that is the case.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { jumpRules } from './iptables-rules.ts';

const run = promisify(execFile);

export type Table = 'nat' | 'filter';
type Jump = ReturnType<typeof jumpRules>[number];

export interface IptablesRunner {
  /** Undefined when usable, else why not. */
  probe(): Promise<string | undefined>;
  restore(text: string): Promise<void>;
  /** Chains in a table whose name starts with `prefix-`. */
  chains(table: Table, prefix: string): Promise<string[]>;
  /** Make exactly `jumps` (tagged with the prefix) present in the built-in chains. */
  syncJumps(prefix: string, jumps: Jump[]): Promise<void>;
  /**
   * Whether the host still holds what `rendered` (a restore text of `renderRules`) and `jumps`
   * put there: each of the prefix's chains with as many rules as written, no other chain of the
   * prefix, exactly the tagged jumps. One `iptables-save`, where a restore and re-checking the
   * jumps are three processes: the periodic resync restores only when this says no.
   */
  intact(prefix: string, rendered: string, jumps: Jump[]): Promise<boolean>;
  /** Remove the jump rules and every chain of a prefix. */
  removeAll(prefix: string): Promise<void>;
  /** Every cluster prefix with rules on this host, and the pod subnet its PREROUTING jump matches. */
  clusters(): Promise<Array<{ prefix: string; podSubnet?: string }>>;
}

export class HostIptables implements IptablesRunner {
  constructor(private readonly bin = { iptables: 'iptables', restore: 'iptables-restore', save: 'iptables-save' }) {}

  async probe(): Promise<string | undefined> {
    if (process.platform !== 'linux') return `iptables mode needs Linux (this is ${process.platform})`;
    try {
      await run(this.bin.iptables, ['-t', 'nat', '-S', 'OUTPUT']);
      return undefined;
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { stderr?: string };
      if (err.code === 'ENOENT') return 'iptables is not installed';
      return (err.stderr || err.message).trim().split('\n')[0];
    }
  }

  restore(text: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = spawn(this.bin.restore, ['--noflush'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr.on('data', (d) => (stderr += d));
      p.on('error', reject);
      p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`iptables-restore failed (exit ${code}): ${stderr.trim()}`))));
      p.stdin.end(text);
    });
  }

  async chains(table: Table, prefix: string): Promise<string[]> {
    const { stdout } = await run(this.bin.save, ['-t', table]);
    const out: string[] = [];
    for (const line of stdout.split('\n')) if (line.startsWith(`:${prefix}-`)) out.push(line.slice(1).split(' ')[0]!);
    return out;
  }

  async syncJumps(prefix: string, jumps: Jump[]): Promise<void> {
    const tag = `wheelhouse:${prefix}`;
    // One listing per table (two runs when nothing changed; it was one run per chain and one
    // `-C` per jump, a dozen processes every resync).
    for (const table of ['nat', 'filter'] as const) {
      const rules = await this.taggedRulesOf(table, tag);
      // Drop tagged rules that are not wanted any more (an old pod subnet, an earlier run's leftovers).
      for (const chain of table === 'nat' ? ['PREROUTING', 'OUTPUT', 'POSTROUTING'] : ['OUTPUT', 'FORWARD']) {
        for (const args of rules.get(chain) ?? []) {
          if (!matchesAny(table, chain, args, jumps)) await run(this.bin.iptables, ['-t', table, '-D', chain, ...args]);
        }
      }
      for (const j of jumps) {
        if (j.table !== table) continue;
        if ((rules.get(j.chain) ?? []).some((args) => matchesAny(table, j.chain, args, [j]))) continue;
        await run(this.bin.iptables, ['-t', j.table, j.insert ? '-I' : '-A', j.chain, ...(j.insert ? ['1'] : []), ...j.rule]);
      }
    }
  }

  async intact(prefix: string, rendered: string, jumps: Jump[]): Promise<boolean> {
    const { stdout } = await run(this.bin.save, [], { maxBuffer: 256 * 1024 * 1024 });
    const want = ruleCounts(rendered, `${prefix}-`);
    const have = ruleCounts(stdout, `${prefix}-`);
    if (want.size !== have.size) return false;
    for (const [chain, n] of want) if (have.get(chain) !== n) return false;
    const tag = `wheelhouse:${prefix}`;
    let table = '';
    let found = 0;
    for (const line of stdout.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1).trim();
      if ((table !== 'nat' && table !== 'filter') || !line.startsWith('-A ')) continue;
      const { chain, args } = listedRule(line);
      if (!args.includes(tag)) continue;
      // A tagged rule that is not wanted (syncJumps removes it), or a wanted one found.
      if (!matchesAny(table, chain, args, jumps)) return false;
      found++;
    }
    return found === jumps.length;
  }

  async removeAll(prefix: string): Promise<void> {
    const tag = `wheelhouse:${prefix}`;
    for (const table of ['nat', 'filter'] as const) {
      for (const chain of table === 'nat' ? ['PREROUTING', 'OUTPUT', 'POSTROUTING'] : ['OUTPUT', 'FORWARD']) {
        for (const args of await this.taggedRules(table, chain, tag)) await run(this.bin.iptables, ['-t', table, '-D', chain, ...args]).catch(() => undefined);
      }
    }
    const nat = await this.chains('nat', prefix);
    const filter = await this.chains('filter', prefix);
    if (!nat.length && !filter.length) return;
    const text = [
      '*nat', ...nat.map((c) => `:${c} - [0:0]`), ...nat.map((c) => `-X ${c}`), 'COMMIT',
      '*filter', ...filter.map((c) => `:${c} - [0:0]`), ...filter.map((c) => `-X ${c}`), 'COMMIT', '',
    ].join('\n');
    await this.restore(text);
  }

  async clusters(): Promise<Array<{ prefix: string; podSubnet?: string }>> {
    const found = new Map<string, string | undefined>();
    for (const [table, chain] of [['nat', 'PREROUTING'], ['nat', 'OUTPUT'], ['nat', 'POSTROUTING']] as const) {
      for (const args of await this.taggedRules(table, chain, 'wheelhouse:')) {
        const tag = args.find((a) => a.startsWith('wheelhouse:WH-'))!;
        const prefix = tag.slice('wheelhouse:'.length);
        const subnet = chain === 'PREROUTING' && args.includes('-s') ? args[args.indexOf('-s') + 1] : undefined;
        found.set(prefix, subnet ?? found.get(prefix));
      }
    }
    return [...found].map(([prefix, podSubnet]) => ({ prefix, ...(podSubnet ? { podSubnet } : {}) }));
  }

  /** Every rule of a table carrying our tag, by chain, as argument lists (`-S` output minus `-A CHAIN`). */
  private async taggedRulesOf(table: Table, tag: string): Promise<Map<string, string[][]>> {
    const { stdout } = await run(this.bin.iptables, ['-t', table, '-S']);
    const out = new Map<string, string[][]>();
    for (const l of stdout.split('\n')) {
      if (!l.startsWith('-A ')) continue;
      const { chain, args } = listedRule(l);
      if (!args.includes(tag)) continue;
      out.set(chain, [...(out.get(chain) ?? []), args]);
    }
    return out;
  }

  /** The rules of a built-in chain carrying our tag, as argument lists (`-S` output minus `-A CHAIN`). */
  private async taggedRules(table: Table, chain: string, tag: string): Promise<string[][]> {
    const { stdout } = await run(this.bin.iptables, ['-t', table, '-S', chain]);
    return stdout
      .split('\n')
      .filter((l) => l.startsWith(`-A ${chain} `))
      .map((l) => listedRule(l).args)
      .filter((args) => (tag.endsWith(':') ? args.some((a) => a.startsWith(tag)) : args.includes(tag)));
  }

}

/**
 * A rule line of `-S` or iptables-save (`-A CHAIN args…`): its chain and arguments. Our rules
 * hold no spaces inside an argument; the comment comes quoted.
 */
function listedRule(line: string): { chain: string; args: string[] } {
  const parts = line.trim().split(/\s+/);
  return { chain: parts[1]!, args: parts.slice(2).map((a) => a.replace(/^"(.*)"$/, '$1')) };
}

/**
 * Rules per chain (`table/chain` → count) of the chains named `prefix…` in an iptables-save or
 * restore text; chains the text deletes (`-X`) are left out.
 */
function ruleCounts(text: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  let table = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(`:${prefix}`)) out.set(`${table}/${line.slice(1).split(' ')[0]}`, 0);
    else if (line.startsWith(`-A ${prefix}`)) {
      const k = `${table}/${line.split(' ')[1]}`;
      out.set(k, (out.get(k) ?? 0) + 1);
    } else if (line.startsWith(`-X ${prefix}`)) out.delete(`${table}/${line.split(' ')[1]}`);
  }
  return out;
}

/** Whether a listed rule (`-S` arguments) is one of `jumps`: same table, chain, target and addresses. */
function matchesAny(table: string, chain: string, args: string[], jumps: Jump[]): boolean {
  // `-S` prints rules normalised (e.g. `-d 10.96.0.0/16`); the jump target and addresses decide.
  const target = args[args.indexOf('-j') + 1];
  const src = args.includes('-s') ? args[args.indexOf('-s') + 1] : undefined;
  const dst = args.includes('-d') ? args[args.indexOf('-d') + 1] : undefined;
  return jumps.some((j) => {
    if (j.table !== table || j.chain !== chain) return false;
    const r = j.rule;
    const jt = r[r.indexOf('-j') + 1];
    const js = r.includes('-s') ? r[r.indexOf('-s') + 1] : undefined;
    const jd = r.includes('-d') ? r[r.indexOf('-d') + 1] : undefined;
    return jt === target && js === src && jd === dst;
  });
}
