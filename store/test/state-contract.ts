/**
 * The behaviour every StateStore adapter owes its callers. Run it against an adapter with
 * `describeStateStoreContract('postgres', open)`; each test gets a fresh, empty store from `open`.
 */
import { PwError, verifyAuditChain } from '@pledgewatch/common';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateStore } from '../src/state.ts';
import { describeStateAlertsContract } from './state-contract-alerts.ts';
import { describeStateAuditContract } from './state-contract-audit.ts';
import { describeStateChangesContract } from './state-contract-changes.ts';
import { describeStateIngestContract } from './state-contract-ingest.ts';
import { describeStateLiveContract } from './state-contract-live.ts';
import { describeStateValuationContract } from './state-contract-valuation.ts';
import { alert, at, batch, epc, feedAccount, gatewayAccount, gatewayStatus, pledge, price, reader, release, state, tag } from './fixtures.ts';

export interface StateContractOptions {
  /**
   * Opens the data of the store the last `open()` returned, after the suite has closed that store.
   * Given, the suite also checks that everything survives a restart.
   */
  reopen?: () => Promise<StateStore>;
}

/** A fresh store per test, closed after it; `ctx.store` is what the test at hand works on. */
export interface StoreContext {
  store: StateStore;
}

const ids = (items: { id: string }[]): string[] => items.map((i) => i.id).sort();

export function describeStateStoreContract(
  name: string,
  open: () => Promise<StateStore>,
  options: StateContractOptions = {},
): void {
  describe(`StateStore contract: ${name}`, () => {
    const ctx = {} as StoreContext;
    let closed = false;
    beforeEach(async () => {
      ctx.store = await open();
      closed = false;
    });
    afterEach(async () => {
      if (!closed) await ctx.store.close();
    });

    it('answers ping and names its kind', async () => {
      await expect(ctx.store.ping()).resolves.toBeUndefined();
      expect(ctx.store.kind).toMatch(/\S/);
    });

    describe('api keys', () => {
      it('finds a key by its hash', async () => {
        const key = { id: 'k1', tenant: 'bank-a', hash: 'a'.repeat(64), createdAt: at(0) };
        await ctx.store.createApiKey(key);
        await ctx.store.createApiKey({ id: 'k2', tenant: 'bank-b', hash: 'b'.repeat(64), createdAt: at(1) });
        expect(await ctx.store.findApiKeyByHash('a'.repeat(64))).toEqual(key);
      });

      it('returns null for an unknown hash', async () => {
        expect(await ctx.store.findApiKeyByHash('c'.repeat(64))).toBeNull();
      });
    });

    describe('mqtt accounts', () => {
      it('round-trips gateways and feeds', async () => {
        await ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-1'));
        await ctx.store.createMqttAccount(feedAccount('feed-1'));
        expect(await ctx.store.getMqttAccount('gw-1')).toEqual(gatewayAccount('gw-1', 'site-1'));
        expect(await ctx.store.getMqttAccount('feed-1')).toEqual(feedAccount('feed-1'));
        expect(await ctx.store.getMqttAccount('nobody')).toBeNull();
      });

      it('rejects a taken id with ACCOUNT_EXISTS, whatever the kind', async () => {
        await ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-1'));
        await expect(ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-2'))).rejects.toMatchObject({
          code: 'ACCOUNT_EXISTS',
        });
        await expect(ctx.store.createMqttAccount(feedAccount('gw-1'))).rejects.toBeInstanceOf(PwError);
        expect(await ctx.store.getMqttAccount('gw-1')).toEqual(gatewayAccount('gw-1', 'site-1'));
      });

      it('lists gateways and their sites, never feeds', async () => {
        await ctx.store.createMqttAccount(gatewayAccount('gw-2', 'site-b'));
        await ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-a'));
        await ctx.store.createMqttAccount(gatewayAccount('gw-3', 'site-a'));
        await ctx.store.createMqttAccount(feedAccount('feed-1'));
        const gateways = await ctx.store.listGateways();
        expect(ids(gateways)).toEqual(['gw-1', 'gw-2', 'gw-3']);
        expect(gateways.find((g) => g.id === 'gw-2')).toEqual({
          id: 'gw-2',
          siteId: 'site-b',
          createdAt: at(0),
          online: null,
          lastSeenAt: null,
          status: null,
        });
        expect(await ctx.store.getGateway('feed-1')).toBeNull();
        expect(await ctx.store.getGateway('nobody')).toBeNull();
        expect((await ctx.store.listSites()).sort()).toEqual(['site-a', 'site-b']);
      });

      it('records the last gateway status', async () => {
        await ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-1'));
        await ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', true, 0), at(10));
        expect(await ctx.store.getGateway('gw-1')).toMatchObject({
          online: true,
          lastSeenAt: at(10),
          status: gatewayStatus('gw-1', true, 0),
        });
        await ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', false, 60_000), at(60_010));
        const [gw] = await ctx.store.listGateways();
        expect(gw).toMatchObject({ id: 'gw-1', online: false, lastSeenAt: at(60_010) });
        expect(gw?.status).toEqual(gatewayStatus('gw-1', false, 60_000));
      });
    });

    describe('pledges', () => {
      it('round-trips a pledge for its own tenant only', async () => {
        const p = pledge({ id: 'p1', tenant: 'bank-a', epcs: [epc(1), epc(2)] });
        await ctx.store.createPledge(p);
        expect(await ctx.store.getPledge('bank-a', 'p1')).toEqual(p);
        expect(await ctx.store.getPledge('bank-b', 'p1')).toBeNull();
        expect(await ctx.store.getPledge('bank-a', 'p2')).toBeNull();
        expect(await ctx.store.listPledges('bank-b')).toEqual([]);
      });

      it('lists a tenant’s pledges with filters, and all pledges for ingest', async () => {
        await ctx.store.createPledge(pledge({ id: 'a1', siteId: 's1', borrower: 'Acme', epcs: [epc(1)] }));
        await ctx.store.createPledge(pledge({ id: 'a2', siteId: 's2', borrower: 'Acme', epcs: [epc(2)] }));
        await ctx.store.createPledge(pledge({ id: 'a3', siteId: 's1', borrower: 'Bolt', epcs: [epc(3)] }));
        await ctx.store.createPledge(pledge({ id: 'b1', tenant: 'bank-b', siteId: 's1', borrower: 'Acme', epcs: [epc(4)] }));
        expect(ids(await ctx.store.listPledges('bank-a'))).toEqual(['a1', 'a2', 'a3']);
        expect(ids(await ctx.store.listPledges('bank-a', {}))).toEqual(['a1', 'a2', 'a3']);
        expect(ids(await ctx.store.listPledges('bank-a', { siteId: 's1' }))).toEqual(['a1', 'a3']);
        expect(ids(await ctx.store.listPledges('bank-a', { borrower: 'Acme' }))).toEqual(['a1', 'a2']);
        expect(ids(await ctx.store.listPledges('bank-a', { siteId: 's1', borrower: 'Acme' }))).toEqual(['a1']);
        expect(ids(await ctx.store.listPledges('bank-a', { siteId: 's9' }))).toEqual([]);
        expect(ids(await ctx.store.listPledges('bank-b'))).toEqual(['b1']);
        expect(ids(await ctx.store.listAllPledges())).toEqual(['a1', 'a2', 'a3', 'b1']);
      });

      it('rejects a taken id with PLEDGE_EXISTS, also from another tenant', async () => {
        const original = pledge({ id: 'p1', epcs: [epc(1)] });
        await ctx.store.createPledge(original);
        await expect(ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(2)] }))).rejects.toMatchObject({
          code: 'PLEDGE_EXISTS',
        });
        await expect(
          ctx.store.createPledge(pledge({ id: 'p1', tenant: 'bank-b', epcs: [epc(3)] })),
        ).rejects.toMatchObject({ code: 'PLEDGE_EXISTS' });
        expect(await ctx.store.getPledge('bank-a', 'p1')).toEqual(original);
        expect(await ctx.store.getPledge('bank-b', 'p1')).toBeNull();
        // The rejected pledges' EPCs were not claimed.
        await ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(2), epc(3)] }));
      });

      it('rejects an EPC pledged by another tenant, naming it and storing nothing', async () => {
        await ctx.store.createPledge(pledge({ id: 'a1', tenant: 'bank-a', epcs: [epc(1), epc(2)] }));
        const err = await ctx.store
          .createPledge(pledge({ id: 'b1', tenant: 'bank-b', epcs: [epc(7), epc(2), epc(8)] }))
          .then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(PwError);
        expect(err).toMatchObject({ code: 'EPC_ALREADY_PLEDGED' });
        expect((err as PwError).message).toContain(epc(2));
        // The pledge holding it may be another tenant's: its id is not told.
        expect((err as PwError).message).not.toContain('a1');
        expect(await ctx.store.getPledge('bank-b', 'b1')).toBeNull();
        expect(ids(await ctx.store.listAllPledges())).toEqual(['a1']);
        // Neither the id nor the EPCs before or after the conflict were kept.
        await ctx.store.createPledge(pledge({ id: 'b1', tenant: 'bank-b', epcs: [epc(7), epc(8)] }));
        expect(ids(await ctx.store.listPledges('bank-b'))).toEqual(['b1']);
      });

      it('treats EPCs case-insensitively when checking for double pledging', async () => {
        await ctx.store.createPledge(pledge({ id: 'a1', epcs: [epc(10)] }));
        await expect(
          ctx.store.createPledge(pledge({ id: 'b1', tenant: 'bank-b', epcs: [epc(10).toLowerCase()] })),
        ).rejects.toMatchObject({ code: 'EPC_ALREADY_PLEDGED' });
      });

      it('lists pledges registered after a time, exclusive', async () => {
        await ctx.store.createPledge(pledge({ id: 'p1', epcs: [epc(1)], createdAt: at(1_000) }));
        await ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(2)], createdAt: at(2_000), tenant: 'bank-b' }));
        await ctx.store.createPledge(pledge({ id: 'p3', epcs: [epc(3)], createdAt: at(3_000) }));
        expect(ids(await ctx.store.listPledgesChangedSince(at(0)))).toEqual(['p1', 'p2', 'p3']);
        expect(ids(await ctx.store.listPledgesChangedSince(at(1_000)))).toEqual(['p2', 'p3']);
        expect(ids(await ctx.store.listPledgesChangedSince(at(2_999)))).toEqual(['p3']);
        expect(await ctx.store.listPledgesChangedSince(at(3_000))).toEqual([]);
      });

      it('remembers the last status published for a pledge', async () => {
        await ctx.store.createPledge(pledge({ id: 'p1' }));
        expect(await ctx.store.getPledgeStatus('p1')).toBeNull();
        await ctx.store.setPledgeStatus('p1', 'warning');
        expect(await ctx.store.getPledgeStatus('p1')).toBe('warning');
        await ctx.store.setPledgeStatus('p1', 'ok');
        expect(await ctx.store.getPledgeStatus('p1')).toBe('ok');
        expect(await ctx.store.getPledgeStatus('nope')).toBeNull();
      });
    });

    describeStateLiveContract(ctx);
    describeStateAlertsContract(ctx);
    describeStateValuationContract(ctx);
    describeStateChangesContract(ctx);
    describeStateIngestContract(ctx);
    describeStateAuditContract(ctx);

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it('keeps everything across close and reopen', async () => {
        const p = pledge({ id: 'p1', epcs: [epc(1)] });
        await ctx.store.createApiKey({ id: 'k1', tenant: 'bank-a', hash: 'f'.repeat(64), createdAt: at(0) });
        await ctx.store.createMqttAccount(gatewayAccount('gw-1', 'site-1'));
        await ctx.store.recordGatewayStatus('gw-1', gatewayStatus('gw-1', true), at(5));
        await ctx.store.createPledge(p);
        await ctx.store.setPledgeStatus('p1', 'margin_call');
        await ctx.store.putPrice(price('wheat', 210, 0));
        await ctx.store.commitBatch(batch('gw-1', 1));
        await ctx.store.commitBatch(batch('gw-1', 2));
        await ctx.store.checkpoint(state([tag(epc(1))], [reader('gw-1', 'r1', true)], [batch('gw-1', 1)]));
        await ctx.store.applyAlertChanges([{ kind: 'open', alert: alert({ id: 'a1', pledgeId: 'p1' }) }]);
        await ctx.store.createRelease(release({ id: 'r1', pledgeId: 'p1' }));
        await ctx.store.recordIngestShards(3);
        await ctx.store.close();
        closed = true;

        ctx.store = await reopen();
        closed = false;
        expect(await ctx.store.findApiKeyByHash('f'.repeat(64))).toMatchObject({ id: 'k1' });
        expect(await ctx.store.getGateway('gw-1')).toMatchObject({ online: true, lastSeenAt: at(5) });
        expect(await ctx.store.getPledge('bank-a', 'p1')).toEqual(p);
        expect(await ctx.store.getPledgeStatus('p1')).toBe('margin_call');
        expect(await ctx.store.getPrice('wheat')).toMatchObject({ price: 210 });
        expect(await ctx.store.recordIngestShards(3)).toBe(3);
        expect(await ctx.store.getTags([epc(1)])).toHaveLength(1);
        expect(await ctx.store.listReaders()).toHaveLength(1);
        expect(await ctx.store.commitBatch(batch('gw-1', 1))).toBe(false);
        expect((await ctx.store.pendingBatches()).map((b) => b.seq)).toEqual([2]);
        await expect(ctx.store.createPledge(pledge({ id: 'p2', epcs: [epc(1)] }))).rejects.toMatchObject({
          code: 'EPC_ALREADY_PLEDGED',
        });
        // Alerts, their events and releases survive a restart, and the one-unresolved rule still holds.
        expect((await ctx.store.listActiveAlerts()).map((a) => a.id)).toEqual(['a1']);
        expect((await ctx.store.eventsAfter(0, 10)).map((e) => e.type)).toEqual(['alert.opened']);
        expect(await ctx.store.listReleases('bank-a', 'p1')).toEqual([release({ id: 'r1', pledgeId: 'p1' })]);
        await ctx.store.applyAlertChanges([{ kind: 'open', alert: alert({ id: 'a2', pledgeId: 'p1' }) }]);
        expect((await ctx.store.listActiveAlerts()).map((a) => [a.id, a.occurrences])).toEqual([['a1', 2]]);
        // The audit chain continues where it stopped.
        const trail = await ctx.store.auditRecords('p1', 0, 100);
        expect(trail.map((r) => r.type).slice(-3)).toEqual(['alert.opened', 'release.recorded', 'alert.updated']);
        expect(verifyAuditChain('p1', trail, await ctx.store.getAuditHead('p1'))).toEqual([]);
      });
    }
  });
}
