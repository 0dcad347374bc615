/** Test harness for controllers: an in-process API server on the memory store and a manager. */
import { openStore } from '../../../core/store/index.ts';
import { ApiServer } from '../../../core/server/api-server.ts';
import { InProcessClient } from '../../../core/client/in-process-client.ts';
import { ControllerManager } from '../../../core/controllers/manager.ts';
import type { Controller, ControllerContext, ControllerOptions } from '../../../core/controllers/controller.ts';

export async function harness(build: Array<(ctx: ControllerContext) => Controller>, options: Partial<ControllerOptions> = {}, now?: () => Date) {
  const store = await openStore('memory:');
  const api = new ApiServer({ store });
  await api.bootstrap();
  const client = new InProcessClient(api);
  const manager = new ControllerManager(client, options, now);
  for (const b of build) manager.add(b, 1);
  await manager.start();
  return {
    store,
    api,
    client,
    manager,
    async close() {
      manager.stop();
      await store.close();
    },
  };
}

/** Poll `check` until it returns truthy (or throw after `ms`). */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
