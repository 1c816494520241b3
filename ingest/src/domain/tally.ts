/**
 * A pledge's quantities kept up to date tag by tag, so rules can look at every touched pledge after
 * every batch without scanning its items. Amounts are integer micro-units (1e-6 of the pledge unit):
 * millions of additions and subtractions stay exact, where floats would drift.
 *
 * Present tags are counted per reader, because whether they are present or unknown depends on that
 * reader's health at the moment of asking (see common's classifyItem, whose results this reproduces).
 */
import {
  releaseQuantity,
  roundQuantities,
  type Pledge,
  type Quantities,
  type ReaderIsUp,
  type ReleasedGoods,
  type TagState,
} from '@pledgewatch/common';

const MICRO = 1_000_000;
const micro = (q: number) => Math.round(q * MICRO);

interface ReaderBucket {
  gatewayId: string;
  readerId: string;
  inPlace: number;
  elsewhere: number;
}

export class PledgeTally {
  /** By gateway, then reader (nested rather than a composite key: `add` runs for every tag event). */
  private readonly byReader = new Map<string, Map<string, ReaderBucket>>();
  private missing = 0;
  private unseen = 0;
  private pledged = 0;

  private constructor(
    private readonly pledge: Pick<Pledge, 'siteId' | 'zones' | 'items' | 'quantity'>,
    private readonly released: ReleasedGoods,
    private readonly quantityOf: ReadonlyMap<string, number>,
  ) {}

  /** Counts a pledge from scratch: at start, and when its terms or releases change. */
  static build(pledge: Pledge, released: ReleasedGoods, tagOf: (epc: string) => TagState | undefined): PledgeTally {
    const quantityOf = new Map<string, number>();
    for (const item of pledge.items) if (!released.epcs.has(item.epc)) quantityOf.set(item.epc, micro(item.quantity));
    const t = new PledgeTally(pledge, released, quantityOf);
    for (const [epc, q] of quantityOf) {
      t.pledged += q;
      t.add(tagOf(epc), q, 1);
    }
    if (pledge.items.length === 0 && pledge.quantity !== undefined) {
      t.pledged += micro(pledge.quantity);
      t.unseen += micro(pledge.quantity);
    }
    return t;
  }

  /** What an EPC counts for here, in micro-units: undefined when it is not pledged here, or released. */
  microQuantityOf(epc: string): number | undefined {
    return this.quantityOf.get(epc);
  }

  /** A tag of this pledge counting `q` micro-units (see microQuantityOf) changed from `before` to `after`. */
  move(q: number, before: TagState | undefined, after: TagState | undefined): void {
    this.add(before, q, -1);
    this.add(after, q, 1);
  }

  quantities(readerIsUp: ReaderIsUp): Quantities {
    let present = 0;
    let relocated = 0;
    let unknown = this.unseen;
    for (const b of this.buckets()) {
      if (readerIsUp(b.gatewayId, b.readerId)) {
        present += b.inPlace;
        relocated += b.elsewhere;
      } else {
        unknown += b.inPlace + b.elsewhere;
      }
    }
    const q: Quantities = {
      pledged: this.pledged / MICRO,
      present: present / MICRO,
      missing: this.missing / MICRO,
      relocated: relocated / MICRO,
      damaged: 0,
      unknown: unknown / MICRO,
    };
    return roundQuantities(releaseQuantity(q, this.released.quantity));
  }

  /** Pledged quantity (micro-units aside) each reader last saw present, for monitoring gaps. */
  byReaders(): { gatewayId: string; readerId: string; quantity: number }[] {
    return [...this.buckets()]
      .filter((b) => b.inPlace + b.elsewhere > 0)
      .map((b) => ({ gatewayId: b.gatewayId, readerId: b.readerId, quantity: (b.inPlace + b.elsewhere) / MICRO }));
  }

  private *buckets(): Iterable<ReaderBucket> {
    for (const readers of this.byReader.values()) yield* readers.values();
  }

  private add(tag: TagState | undefined, q: number, sign: 1 | -1): void {
    if (tag === undefined) {
      this.unseen += sign * q;
      return;
    }
    if (!tag.present) {
      this.missing += sign * q;
      return;
    }
    let readers = this.byReader.get(tag.gatewayId);
    if (readers === undefined) this.byReader.set(tag.gatewayId, (readers = new Map<string, ReaderBucket>()));
    let bucket = readers.get(tag.readerId);
    if (bucket === undefined) readers.set(tag.readerId, (bucket = { gatewayId: tag.gatewayId, readerId: tag.readerId, inPlace: 0, elsewhere: 0 }));
    const inPlace = tag.siteId === this.pledge.siteId && this.pledge.zones.includes(tag.zone);
    if (inPlace) bucket.inPlace += sign * q;
    else bucket.elsewhere += sign * q;
  }
}
