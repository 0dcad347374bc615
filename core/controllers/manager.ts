/**
 * The controller manager: one shared informer factory, one event recorder per component, the
 * controllers it is given. Controllers register their informer handlers in their constructors;
 * `start()` runs their workers and then starts (and waits for) the informers.
 */
import type { Client } from '../client/client.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { log } from '../log.ts';
import { DEFAULT_CONTROLLER_OPTIONS, type Controller, type ControllerContext, type ControllerOptions } from './controller.ts';
import { InformerFactory } from './informer.ts';

export class ControllerManager {
  readonly context: ControllerContext;
  private readonly controllers: Array<{ controller: Controller; workers: number }> = [];
  private readonly recorders = new Map<string, EventRecorder>();

  constructor(client: Client, options: Partial<ControllerOptions> = {}, now: () => Date = () => new Date()) {
    const informers = new InformerFactory(client);
    this.context = {
      client,
      informers,
      now,
      options: { ...DEFAULT_CONTROLLER_OPTIONS, ...options },
      recorder: (component) => {
        let r = this.recorders.get(component);
        if (!r) this.recorders.set(component, (r = new EventRecorder(client, { component })));
        return r;
      },
    };
  }

  /** Add a controller built from this manager's context. */
  add(build: (ctx: ControllerContext) => Controller, workers = 2): this {
    this.controllers.push({ controller: build(this.context), workers });
    return this;
  }

  async start(): Promise<void> {
    for (const { controller, workers } of this.controllers) controller.run(workers);
    await this.context.informers.start();
    log.info('controllers started', { controllers: this.controllers.map((c) => c.controller.name) });
  }

  stop(): void {
    for (const { controller } of this.controllers) controller.stop();
    this.context.informers.stop();
  }
}
