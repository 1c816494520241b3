/** `pw/v1/gw/{gatewayId}/status` (retained; the last will says online:false). */
import { compileCheck, GatewayStatus, parseJson } from '@pledgewatch/common';
import type { IngestContext } from '../context.ts';

const checkStatus = compileCheck(GatewayStatus);

export async function handleStatus(ctx: IngestContext, gatewayId: string, payload: Buffer): Promise<void> {
  const gateway = await ctx.gateway(gatewayId);
  if (gateway === null) return ctx.reject('unknown_gateway', { gatewayId, topic: 'status' });
  const json = parseJson(payload);
  if (!json.ok) return ctx.reject('malformed_json', { gatewayId, topic: 'status' }, json.errors);
  const status = checkStatus(json.value);
  if (!status.ok) return ctx.reject('invalid_status', { gatewayId }, status.errors);
  if (status.value.gatewayId !== gatewayId) {
    return ctx.reject('gateway_mismatch', { gatewayId, claimed: status.value.gatewayId, topic: 'status' });
  }
  // A last will carries the time it was set at connect, so liveness is stamped with our receive time.
  await ctx.store.recordGatewayStatus(gatewayId, status.value, ctx.now());
  const wasOnline = gateway.online;
  gateway.online = status.value.online;
  if (wasOnline !== gateway.online) {
    ctx.log.info({ gatewayId, online: gateway.online }, gateway.online ? 'gateway online' : 'gateway offline');
    ctx.touch(ctx.live.pledgesAtSite(gateway.siteId).map((p) => p.id));
    // Other shards' pledges may have tags last seen here: unknown while this gateway is offline.
    ctx.shards.share({ gateways: [{ id: gatewayId, online: gateway.online }] }, null);
  }
  await ctx.alerts.onStatus(status.value, gateway.siteId);
}
