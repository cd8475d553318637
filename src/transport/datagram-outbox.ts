/**
 * The datagrams a UDP socket is asked to send during one turn of the event
 * loop, sent together, in order, at the end of that turn (setImmediate).
 *
 * Why: on loopback a datagram to a receiver that is asleep wakes it inside
 * our sendmsg, and in a VM that wakeup costs ~20 µs of our CPU. A busy
 * endpoint answers a batch of received messages in one turn; written back to
 * back, the batch finds the receiver awake after the first datagram. In the
 * register bench (10,000 REGISTERs to Kamailio) this cut our CPU by a fifth.
 * The delay is the rest of the current turn: microseconds, not a timer.
 */
import type { Socket } from 'node:dgram';

export type DatagramCallback = (error: Error | null) => void;

export class DatagramOutbox {
  #bytes: Uint8Array[] = [];
  /** 0: the socket is connected (no address per datagram). */
  #ports: number[] = [];
  #hosts: string[] = [];
  #callbacks: Array<DatagramCallback | undefined> = [];
  #scheduled = false;

  private readonly socket: Socket;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  get size(): number {
    return this.#bytes.length;
  }

  /** Queues a datagram; `callback` hears how its send went (an error, or null). */
  push(bytes: Uint8Array, port: number, host: string, callback: DatagramCallback | undefined): void {
    this.#bytes.push(bytes);
    this.#ports.push(port);
    this.#hosts.push(host);
    this.#callbacks.push(callback);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.flush);
    }
  }

  /** Sends everything queued now; the transport calls it before closing the socket (and waits a turn for address lookups). */
  readonly flush = (): void => {
    this.#scheduled = false;
    const bytes = this.#bytes;
    const ports = this.#ports;
    const hosts = this.#hosts;
    const callbacks = this.#callbacks;
    this.#bytes = [];
    this.#ports = [];
    this.#hosts = [];
    this.#callbacks = [];
    for (let i = 0; i < bytes.length; i++) {
      const callback = callbacks[i];
      try {
        if (ports[i] === 0) this.socket.send(bytes[i]!, callback);
        else this.socket.send(bytes[i]!, ports[i], hosts[i], callback);
      } catch (error) {
        // A closed socket throws synchronously: the sender hears it like any send error.
        callback?.(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };
}
