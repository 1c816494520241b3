/**
 * Every MQTT socket of the central side sends without delay (TCP_NODELAY): the embedded broker's and
 * ingest's own, after a reconnect too. With Nagle's algorithm on, an alert-causing batch written behind
 * steady traffic waited for the previous packet's delayed ACK (see common's sockets.ts).
 */
import { waitFor, watchNoDelay } from '@pledgewatch/common/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

let h: Harness | undefined;
let watch: ReturnType<typeof watchNoDelay> | undefined;
afterEach(async () => {
  watch?.restore();
  await h?.close();
  h = undefined;
});

describe('MQTT sockets', () => {
  it("send without delay on both ends of ingest's connection to the embedded broker, after a reconnect too", async () => {
    const { sockets } = (watch = watchNoDelay());
    h = await startHarness();
    const port = Number(new URL(h.broker.url).port);
    // Distinct sockets: a client may turn it on more than once for one connection.
    const distinct = (ends: typeof sockets) => [...new Set(ends.map((s) => s.socket))];
    const clientEnds = () => distinct(sockets.filter((s) => s.remotePort === port));
    const brokerEnds = () => distinct(sockets.filter((s) => s.localPort === port));
    await waitFor('ingest connected without delay on both ends', () => clientEnds().length === 1 && brokerEnds().length === 1);
    brokerEnds()[0]?.destroy();
    await waitFor('ingest reconnected without delay on both ends', () => clientEnds().length === 2 && brokerEnds().length === 2 && h?.ingest.isConnected() === true);
    // Each end of each connection is a socket of its own.
    expect(new Set(sockets.map((s) => s.socket)).size).toBe(4);
  });
});
