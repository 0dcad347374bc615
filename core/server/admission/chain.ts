/**
 * The admission chain, as in kube-apiserver: mutating plugins run first (in order), then
 * validating ones. A plugin rejects a request by throwing an ApiError (Forbidden for quota, Invalid
 * for limit-range violations …). Plugins see every write: the UI's, kubectl's and controllers'.
 */
import type { KindInfo } from '../../api/kinds.ts';
import type { KubeObject } from '../../api/types.ts';

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface UserInfo {
  username: string;
  groups: string[];
  uid?: string;
}

export interface AdmissionAttributes {
  operation: Operation;
  info: KindInfo;
  namespace?: string;
  name: string;
  /** The object being written (mutable for mutating plugins); for DELETE the object being deleted. */
  object: KubeObject;
  oldObject?: KubeObject;
  /** `status` for status writes, '' for the main resource. */
  subresource: string;
  dryRun: boolean;
  user: UserInfo;
  /**
   * Warnings for the client, as kube-apiserver's admission warnings (`Warning: 299 - "…"` headers
   * over HTTP, which kubectl prints): plugins push, the write still goes through.
   */
  warnings: string[];
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Change the object (defaults from a LimitRange, a ServiceAccount token …). */
  admit?(attrs: AdmissionAttributes): Promise<void> | void;
  /** Accept or reject (quota, pod security …) without changing anything. */
  validate?(attrs: AdmissionAttributes): Promise<void> | void;
}

export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  add(plugin: AdmissionPlugin): this {
    this.plugins.push(plugin);
    return this;
  }

  names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  async run(attrs: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(attrs);
    for (const p of this.plugins) if (p.validate) await p.validate(attrs);
  }
}

/** The identity the control plane's own components use in-process. */
export const SYSTEM_ADMIN: UserInfo = { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
