/** Every call of the contract → its handler (the type makes a missing one a compile error). */
import type { CallName } from '../desktop-api.ts';
import { configHandlers } from './config-data.ts';
import { execHandlers } from './exec.ts';
import type { HandlerMap } from './handler-types.ts';
import { importHandlers } from './import.ts';
import { infoHandlers } from './info.ts';
import { logHandlers } from './logs.ts';
import { metricsHandlers } from './metrics.ts';
import { nodeHandlers } from './nodes.ts';
import { portForwardHandlers } from './port-forward.ts';
import { resourceHandlers } from './resources.ts';
import { rolloutHandlers } from './rollout.ts';
import { workloadHandlers } from './workloads.ts';

export const HANDLERS: HandlerMap<CallName> = {
  ...infoHandlers,
  ...resourceHandlers,
  ...importHandlers,
  ...workloadHandlers,
  ...rolloutHandlers,
  ...nodeHandlers,
  ...logHandlers,
  ...execHandlers,
  ...portForwardHandlers,
  ...metricsHandlers,
  ...configHandlers,
};
