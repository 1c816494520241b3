/**
 * Ingest's MQTT connection against a broker played byte by byte: the PUBACKs of messages handled in
 * one turn of the event loop leave together, in one write.
 */
import net from 'node:net';
import { waitFor } from '@pledgewatch/common/testing';
import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { mqttConnection, type BrokerConnection } from '../src/connection.ts';

const log = pino({ level: 'silent' });
let server: net.Server | undefined;
let connection: BrokerConnection | undefined;
afterEach(async () => {
  await connection?.close();
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = connection = undefined;
});

/** A PUBLISH, QoS 1 (MQTT 3.1.1 §3.3), small enough for a one-byte remaining length. */
function publish(topic: string, id: number, payload: string): Buffer {
  const body = Buffer.concat([Buffer.from([topic.length >> 8, topic.length & 0xff]), Buffer.from(topic), Buffer.from([id >> 8, id & 0xff]), Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x32, body.length]), body]);
}

it('sends the PUBACKs of messages handled in one turn in one write', async () => {
  const MESSAGES = 5;
  const received: Buffer[] = [];
  server = net.createServer((socket) => {
    let subscribed = false;
    socket.on('data', (chunk) => {
      received.push(chunk);
      if (chunk[0] === 0x10) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00])); // CONNECT → CONNACK
      if (chunk[0] === 0x82 && !subscribed) {
        subscribed = true; // SUBSCRIBE → SUBACK (granted QoS 1), then every message in one write
        socket.write(Buffer.concat([Buffer.from([0x90, 0x03, chunk[2] ?? 0, chunk[3] ?? 0, 0x01]), ...Array.from({ length: MESSAGES }, (_, i) => publish('pw/v1/gw/gw-1/events', i + 1, `{"n":${i}}`))]));
      }
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  // Counts the client's writes to the socket (a corked run of writes is one _writev).
  const proto = net.Socket.prototype as unknown as { _write: (...a: unknown[]) => unknown; _writev: (...a: unknown[]) => unknown };
  const original = { write: proto._write, writev: proto._writev };
  const writes: Buffer[] = [];
  const bytes = (chunk: unknown) => (Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const ours = (s: net.Socket) => s.remotePort === port;
  proto._write = function (this: net.Socket, ...a: unknown[]) {
    if (ours(this)) writes.push(bytes(a[0]));
    return original.write.apply(this, a);
  };
  proto._writev = function (this: net.Socket, ...a: unknown[]) {
    if (ours(this)) writes.push(Buffer.concat((a[0] as { chunk: unknown }[]).map((c) => bytes(c.chunk))));
    return original.writev.apply(this, a);
  };
  try {
    const handled: string[] = [];
    connection = mqttConnection({ url: `mqtt://127.0.0.1:${port}`, clientId: 'ingest-test', topics: ['pw/v1/gw/+/events'], logger: log });
    // As ingest's handler on SQLite: done within the turn, through promises only.
    await connection.start(async (m) => {
      await Promise.resolve();
      handled.push(m.payload.toString());
    });
    const pubacksIn = (c: Buffer) => [...c.entries()].filter(([i, b]) => b === 0x40 && c[i + 1] === 0x02 && i % 4 === 0).length;
    const pubacks = () => pubacksIn(Buffer.concat(received.slice(2)));
    await waitFor('every message acknowledged', () => pubacks() === MESSAGES);
    expect(handled).toEqual(Array.from({ length: MESSAGES }, (_, i) => `{"n":${i}}`));
    // The acknowledgements (4 bytes each), in fewer writes than there were messages.
    const ackWrites = writes.filter((w) => w[0] === 0x40);
    expect(ackWrites.reduce((n, w) => n + pubacksIn(w), 0)).toBe(MESSAGES);
    expect(ackWrites.length).toBeLessThan(MESSAGES);
  } finally {
    proto._write = original.write;
    proto._writev = original.writev;
  }
});
