import { Counter, Gauge, type Registry } from 'prom-client';

export interface AlertMetrics {
  opened: Counter<'type'>;
  resolved: Counter<'type'>;
  statusChanges: Counter<'status'>;
}

/** `openCounts` is read at scrape time: the gauge shows what is open then, not a running sum. */
export function alertMetrics(registry: Registry, openCounts: () => ReadonlyMap<string, number>): AlertMetrics {
  const registers = [registry];
  new Gauge({
    name: 'pw_alerts_open',
    help: 'Alerts raised by ingest (rules and valuation) that are open now (acknowledged included), by type',
    labelNames: ['type'],
    registers,
    collect() {
      for (const [type, n] of openCounts()) this.set({ type }, n);
    },
  });
  return {
    opened: new Counter({ name: 'pw_alerts_opened_total', help: 'Alerts opened by ingest (rules and valuation), by type', labelNames: ['type'], registers }),
    resolved: new Counter({
      name: 'pw_alerts_resolved_total',
      help: 'Alerts resolved by rules (condition clear for the hold time), by type',
      labelNames: ['type'],
      registers,
    }),
    statusChanges: new Counter({
      name: 'pw_pledge_status_changes_total',
      help: 'Pledge statuses published (pledge.status_changed), by the new status',
      labelNames: ['status'],
      registers,
    }),
  };
}
