/**
 * MQTT traffic is small packets, each worth sending the moment it is written. With Nagle's algorithm
 * on (Node's default for a TCP socket) a packet written while an earlier one still waits for its ACK
 * is held back until that ACK arrives — and the peer delays ACKs by up to ~40 ms on Linux. Under a
 * steady stream of packets that is most of the time: an alert-causing batch behind other traffic
 * waited ~20 ms in the kernel (`npm run bench -- webhook`). Every MQTT socket here sends without delay:
 * the brokers' (created with `noDelay`) and the clients'.
 */

/** The part of an mqtt.js client used here (common does not depend on mqtt). */
export interface StreamClient {
  stream?: unknown;
  on(event: 'connect', listener: () => void): unknown;
}

/**
 * Sets TCP_NODELAY on an mqtt.js client's socket, now and after every reconnect: mqtt.js opens its
 * TCP and TLS sockets without it and takes no option for it. WebSocket streams have no such switch.
 */
export function sendWithoutDelay<C extends StreamClient>(client: C): C {
  const apply = () => {
    const stream = client.stream as { setNoDelay?: (noDelay: boolean) => unknown } | undefined;
    if (typeof stream?.setNoDelay === 'function') stream.setNoDelay(true);
  };
  apply();
  client.on('connect', apply);
  return client;
}
