import { EventEmitter } from 'node:events';

/** The listening half of a typed emitter: what a port exposes to the code that wires it. */
export interface Listenable<M extends object> {
  on<K extends keyof M & string>(event: K, listener: (payload: M[K]) => void): this;
  off<K extends keyof M & string>(event: K, listener: (payload: M[K]) => void): this;
}

/**
 * An event emitter typed by an event map (one payload per event), after MQTT.js `TypedEmitter`.
 * Wraps rather than extends EventEmitter so untyped `emit`/`on` overloads never leak out, and no
 * event is named `error`, whose unhandled emit would throw.
 */
export class TypedEmitter<M extends object> implements Listenable<M> {
  readonly #emitter = new EventEmitter();

  on<K extends keyof M & string>(event: K, listener: (payload: M[K]) => void): this {
    this.#emitter.on(event, listener);
    return this;
  }

  off<K extends keyof M & string>(event: K, listener: (payload: M[K]) => void): this {
    this.#emitter.off(event, listener);
    return this;
  }

  protected emit<K extends keyof M & string>(event: K, payload: M[K]): void {
    this.#emitter.emit(event, payload);
  }
}
