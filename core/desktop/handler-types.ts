/** How a handler of the desktop contract is typed: (session, checked args) → result. */
import type { CallArgs, CallName, CallResult } from '../desktop-api.ts';
import type { DesktopSession } from './host.ts';

export type Handler<K extends CallName> = (s: DesktopSession, args: CallArgs<K>) => Promise<CallResult<K>>;
export type HandlerMap<K extends CallName> = { [P in K]: Handler<P> };
