/**
 * MONITORING_GAP: the pledge cannot be watched. A gateway of its site offline (last will) or silent
 * for several heartbeat intervals; a reader holding its goods disconnected, or connected but reading
 * nothing for longer than expected; a camera on its zones obstructed or tampered with. A blind spot is
 * a risk in itself, and the reason its goods count as unknown rather than missing.
 */
import { isoTime, type AlertSeverity } from '@pledgewatch/common';
import type { Condition, PledgeFacts, Rule } from './types.ts';

export const monitoringGap: Rule = (f) => [...gateways(f), ...readers(f), ...cameras(f)];

function gap(f: PledgeFacts, subject: string, since: number, summary: string, evidence: Condition['evidence']): Condition {
  const cfg = f.config.monitoringGap;
  const severity: AlertSeverity = f.now - since >= cfg.criticalAfterMs ? 'critical' : 'warning';
  return { type: 'MONITORING_GAP', subject, severity, summary, confirmMs: cfg.confirmationDelayMs, holdMs: f.config.lifecycle.holdMs, evidence };
}

function gateways(f: PledgeFacts): Condition[] {
  const cfg = f.config.monitoringGap;
  const out: Condition[] = [];
  for (const g of f.gateways) {
    const offline = g.online === false;
    const silentFor = f.now - g.lastStatusAt;
    const silent = !offline && silentFor > cfg.missedHeartbeats * g.heartbeatMs;
    if (!offline && !silent) continue;
    const since = offline ? (g.offlineSince ?? g.lastStatusAt) : g.lastStatusAt;
    const summary = offline
      ? `Gateway ${g.gatewayId} is offline (its last will was published)`
      : `Gateway ${g.gatewayId} is silent: no status for over ${cfg.missedHeartbeats} heartbeat intervals`;
    out.push(
      gap(f, `gateway:${g.gatewayId}`, since, summary, () => [
        {
          kind: 'gateway',
          at: isoTime(f.now),
          gatewayId: g.gatewayId,
          online: g.online,
          reason: offline ? 'offline' : 'silent',
          lastStatusAt: isoTime(g.lastStatusAt),
          heartbeatIntervalS: g.heartbeatMs / 1000,
        },
      ]),
    );
  }
  return out;
}

function readers(f: PledgeFacts): Condition[] {
  const cfg = f.config.monitoringGap;
  const offline = new Set(f.gateways.filter((g) => g.online === false).map((g) => g.gatewayId));
  const out: Condition[] = [];
  for (const r of f.readers) {
    // An offline gateway's readers are covered by the gateway's own gap.
    if (r.quantity <= 0 || offline.has(r.gatewayId)) continue;
    const silent = r.connected && r.lastReadAt !== null && f.now - Date.parse(r.lastReadAt) > cfg.readerSilenceMs;
    if (r.connected && !silent) continue;
    const since = r.connected ? Date.parse(r.lastReadAt ?? r.since) : Date.parse(r.since);
    const summary = r.connected
      ? `Reader ${r.readerId} on ${r.gatewayId} is connected but has read nothing for too long`
      : `Reader ${r.readerId} on ${r.gatewayId} is disconnected`;
    out.push(
      gap(f, `reader:${r.gatewayId}/${r.readerId}`, since, summary, () => [
        {
          kind: 'reader',
          at: isoTime(f.now),
          gatewayId: r.gatewayId,
          readerId: r.readerId,
          reason: r.connected ? 'silent' : 'disconnected',
          since: r.since,
          lastReadAt: r.lastReadAt,
          quantity: r.quantity,
        },
      ]),
    );
  }
  return out;
}

function cameras(f: PledgeFacts): Condition[] {
  const cfg = f.config.monitoringGap;
  const out: Condition[] = [];
  for (const c of f.cameras) {
    const b = c.blind;
    if (b === null || f.now - b.receivedAt > cfg.cameraBlindMs) continue;
    // Any later event that needs sight proves the camera sees again.
    if (c.sight !== null && Date.parse(c.sight.at) > Date.parse(b.at)) continue;
    out.push(
      gap(f, `camera:${c.cameraId}`, b.receivedAt, `Camera ${c.cameraId} on zone ${c.zone} reports ${b.kind}`, () => [
        {
          kind: 'camera',
          at: b.at,
          cameraId: c.cameraId,
          zone: c.zone,
          event: b.kind,
          confidence: b.confidence,
          ...(b.snapshotUri === undefined ? {} : { snapshotUri: b.snapshotUri }),
        },
      ]),
    );
  }
  return out;
}
