/** The changes one batch makes, collected before anything is committed. */
import type { ReaderHealth, TagState } from '@pledgewatch/common';
import { isBefore, readerKey } from '@pledgewatch/common';
import type { SeriesPoint } from '@pledgewatch/store';
import type { GatewayInfo, LiveState } from './live-state.ts';

export class BatchWork {
  readonly tags = new Map<string, TagState>();
  readonly readers = new Map<string, ReaderHealth>();
  readonly points: SeriesPoint[] = [];

  constructor(
    readonly live: LiveState,
    readonly gateway: GatewayInfo,
  ) {}

  /** The tag as it stands with this batch's changes so far. */
  tagOf(epc: string): TagState | undefined {
    return this.tags.get(epc) ?? this.live.tags.get(epc);
  }

  /**
   * Records a tag change unless it is older than what is known: events from two gateways, or a
   * replayed batch, must not move a tag back in time.
   */
  putTag(tag: TagState): void {
    const current = this.tagOf(tag.epc);
    if (current !== undefined && isBefore(tag.updatedAt, current.updatedAt)) return;
    this.tags.set(tag.epc, tag);
  }

  putReader(reader: ReaderHealth): void {
    const key = readerKey(reader.gatewayId, reader.readerId);
    const current = this.readers.get(key) ?? this.live.readers.get(key);
    if (current !== undefined && isBefore(reader.at, current.at)) return;
    this.readers.set(key, reader);
  }

  /** Tags the given reader currently holds present in a zone, this batch included. */
  presentIn(readerId: string, zone: string): Set<string> {
    const result = new Set(this.live.presentIn(this.gateway.id, readerId, zone));
    for (const tag of this.tags.values()) {
      const here = tag.gatewayId === this.gateway.id && tag.readerId === readerId && tag.zone === zone;
      if (here && tag.present) result.add(tag.epc);
      else result.delete(tag.epc);
    }
    return result;
  }
}
