/**
 * A small typed event emitter: `on(name, handler)` returns an unsubscribe
 * function. A handler that throws does not stop the others (the error goes
 * to the `error` sink, console.error by default): a user callback must never
 * break the stack's own state.
 */
/**
 * An event map: event names to payload types. Closed: an interface with
 * exactly its events (no index signature), so a misspelt name does not compile.
 */
export type EventMap = object;
export type Handler<T> = (payload: T) => void;

export class TypedEvents<Events extends EventMap> {
  readonly #handlers = new Map<keyof Events, Set<Handler<never>>>();
  readonly #onceWrappers = new WeakMap<Handler<unknown>, Handler<unknown>>();
  #onHandlerError: (error: unknown, event: keyof Events) => void = (error, event) => {
    console.error(`sip-endpoint: a ${String(event)} handler threw:`, error);
  };

  on<K extends keyof Events & string>(event: K, handler: Handler<Events[K]>): () => void {
    let set = this.#handlers.get(event);
    if (set === undefined) this.#handlers.set(event, (set = new Set()));
    set.add(handler as Handler<never>);
    return () => this.off(event, handler);
  }

  once<K extends keyof Events & string>(event: K, handler: Handler<Events[K]>): () => void {
    const wrapper: Handler<Events[K]> = (payload) => {
      this.off(event, handler);
      handler(payload);
    };
    this.#onceWrappers.set(handler as Handler<unknown>, wrapper as Handler<unknown>);
    this.on(event, wrapper);
    return () => this.off(event, handler);
  }

  /** Removes a handler added with on() or once(). */
  off<K extends keyof Events & string>(event: K, handler: Handler<Events[K]>): void {
    const set = this.#handlers.get(event);
    if (set === undefined) return;
    const wrapper = this.#onceWrappers.get(handler as Handler<unknown>);
    if (wrapper !== undefined && set.delete(wrapper as Handler<never>)) this.#onceWrappers.delete(handler as Handler<unknown>);
    set.delete(handler as Handler<never>);
  }

  /** Where handler errors go (default console.error). */
  set handlerErrorSink(sink: (error: unknown, event: keyof Events) => void) {
    this.#onHandlerError = sink;
  }

  emit<K extends keyof Events & string>(event: K, payload: Events[K]): void {
    const set = this.#handlers.get(event);
    if (set === undefined) return;
    for (const handler of [...set]) {
      try {
        (handler as Handler<Events[K]>)(payload);
      } catch (error) {
        this.#onHandlerError(error, event);
      }
    }
  }

  listenerCount(event: keyof Events & string): number {
    return this.#handlers.get(event)?.size ?? 0;
  }
}
