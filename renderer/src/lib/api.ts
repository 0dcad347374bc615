/**
 * The typed contract for components: `api.call('nodes.cordon', { name })` resolves to the
 * call's result type or rejects with a DesktopError; `api.on('exec.output', …)` subscribes.
 */
import type { CallArgs, CallName, CallResult, DesktopEvents, EventName } from '../../../core/desktop-api.ts';
import { createTransport, type Transport } from './transport.ts';

let transport: Transport | undefined;

export function setTransport(t: Transport): void {
  transport = t;
}

function t(): Transport {
  transport ??= createTransport();
  return transport;
}

export const api = {
  call<K extends CallName>(name: K, args: CallArgs<K>): Promise<CallResult<K>> {
    return t().call(name, args) as Promise<CallResult<K>>;
  },
  on<E extends EventName>(event: E, listener: (payload: DesktopEvents[E]) => void): () => void {
    return t().on(event, listener as (p: unknown) => void);
  },
  onReconnect(cb: () => void): () => void {
    return t().onReconnect(cb);
  },
  onStatus(cb: (connected: boolean) => void): () => void {
    return t().onStatus(cb);
  },
  get mode(): 'electron' | 'browser' {
    return t().kind;
  },
};
