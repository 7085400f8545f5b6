// Product listings travel from the journal to the gateways' catalogs through the market-data
// publisher: ProductListings applies ListProduct / HaltProduct / ResumeProduct / DelistProduct with
// the product manager's rules, the publisher sends a ProductStatus record for every change and a
// product snapshot when a gateway asks (PRODUCTS query), and the gateway's MarketDataFeed applies
// them to its ProductCatalog, which adds products and changes their state at run time, lets the
// journal win over the seed file, and ignores records older than what it holds.
//
// The publisher and the gateway feed run in this process on real rings (/dev/shm) fed by a real
// sequencer and journal; nothing is mocked.
import * as path from 'node:path';
import t from 'tap';
import { encode, readChars, readI64, readU32, readU8 } from '../bus/codec';
import { RingConsumer, RingFile, RingProducer } from '../bus/ring';
import {
  DelistProduct,
  HaltProduct,
  INPUT_HEADER_BYTES,
  InputHeader,
  JOURNAL_HEADER_BYTES,
  ListProduct,
  ProductState,
  ProductStatus,
  ProductStatusCause,
  ResumeProduct,
  TradingDayOpen,
  type AnyMessage,
  type ValueOf,
} from '../bus/schema';
import { SourceId } from '../bus/source-ids';
import { MarketDataFeed } from '../processes/gateway/market-data-feed';
import { CatalogChange, MAX_PRODUCTS, ProductCatalog, type JournalListing } from '../processes/gateway/product-catalog';
import { ensureConsumer, queryRingPath } from '../processes/market-data/market-data-feed-layout';
import { MarketDataPublisher } from '../processes/market-data/market-data-publisher';
import { openMarketDataStore } from '../processes/market-data/market-data-store';
import { ListingResult, ProductListings } from '../processes/market-data/product-listings';
import { Sequencer } from '../processes/sequencer/sequencer';
import { makeBus, tempDir } from './support/journal-harness';

const SEED_FILE = {
  priceDecimals: 2,
  products: [
    { productId: 1, symbol: 'SEED-1', brand: 'Apple', brandId: 1, tickSize: 1, lotSize: 1 },
    { productId: 2, symbol: 'SEED-2', brand: 'Apple', brandId: 1, tickSize: 1, lotSize: 1 },
  ],
};

function listing(productId: number, symbol: string, over: Partial<JournalListing> = {}): JournalListing {
  return { productId, symbol, brand: 'Sony', brandId: 3, tickSize: 5, lotSize: 10, halted: false, delisted: false, seq: 10, ...over };
}

t.test('the catalog adds a product, changes halted and removes a delisted product at run time', async (t) => {
  const c = ProductCatalog.fromList(SEED_FILE);
  t.equal(c.applyJournalListing(listing(7, 'NEW-7')), CatalogChange.ADDED);
  t.match(c.bySymbolAnyCase('new-7'), { productId: 7, tickSize: 5, lotSize: 10, brand: 'Sony', brandId: 3, halted: false, journalSeq: 10 });
  t.equal(c.byProductId(7)?.symbol, 'NEW-7');
  t.equal(c.size, 3);
  t.same(c.list().map((p) => p.productId), [1, 2, 7], 'listed in productId order');
  t.equal(c.brandIdOf('sony'), 3, 'the new brand is known');

  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { halted: true, seq: 11 })), CatalogChange.STATE);
  t.equal(c.byProductId(7)?.halted, true, 'a halt is applied');
  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { halted: true, seq: 11 })), CatalogChange.STALE, 'the same record again changes nothing');
  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { halted: false, seq: 3 })), CatalogChange.STALE, 'an older record (a replaying publisher) changes nothing');
  t.equal(c.byProductId(7)?.halted, true);
  c.setHalted(7, false);
  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { halted: true, seq: 11 })), CatalogChange.STATE, 'a record of the same seq settles an advisory flag the journal never confirmed');
  t.equal(c.byProductId(7)?.halted, true);
  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { halted: false, seq: 12 })), CatalogChange.STATE);
  t.equal(c.byProductId(7)?.halted, false, 'a resume is applied');

  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { delisted: true, seq: 13 })), CatalogChange.REMOVED);
  t.equal(c.bySymbolAnyCase('NEW-7'), undefined, 'a delisted product is no longer found by symbol');
  t.equal(c.byProductId(7), undefined, 'nor by id');
  t.equal(c.applyJournalListing(listing(8, 'GONE-8', { delisted: true, seq: 14 })), CatalogChange.STALE, 'delisting an unknown product changes nothing');
  t.equal(c.applyJournalListing(listing(7, 'NEW-7', { tickSize: 2, seq: 15 })), CatalogChange.ADDED, 'a delisted id can be listed afresh');
  t.equal(c.byProductId(7)?.tickSize, 2);
});

t.test('the journal wins over the seed file, and the first journal listing of a symbol keeps it', async (t) => {
  const c = ProductCatalog.fromList(SEED_FILE);
  t.equal(c.byProductId(1)?.journalSeq, 0, 'seed products carry seq 0');
  t.equal(c.applyJournalListing(listing(1, 'SEED-1', { brand: 'Apple', brandId: 1, tickSize: 1, lotSize: 1, seq: 4 })), CatalogChange.STATE, 'an agreeing listing only confirms the seed');
  t.equal(c.applyJournalListing(listing(2, 'SEED-2', { tickSize: 25, seq: 5 })), CatalogChange.REPLACED, 'a disagreeing listing replaces the seed product');
  t.match(c.bySymbolAnyCase('SEED-2'), { productId: 2, tickSize: 25, brand: 'Sony', journalSeq: 5 });

  const fresh = ProductCatalog.fromList(SEED_FILE);
  t.equal(fresh.applyJournalListing(listing(9, 'SEED-2', { seq: 6 })), CatalogChange.ADDED, 'the journal gives a seed symbol to another product id');
  t.equal(fresh.bySymbolAnyCase('SEED-2')?.productId, 9);
  t.equal(fresh.byProductId(2), undefined, 'the seed product it contradicts is gone');
  t.equal(fresh.applyJournalListing(listing(10, 'SEED-2', { seq: 7 })), CatalogChange.SYMBOL_TAKEN, 'a second journal listing of the symbol is refused');
  t.equal(fresh.bySymbolAnyCase('SEED-2')?.productId, 9);
  t.equal(fresh.byProductId(10), undefined);

  t.equal(fresh.applyJournalListing(listing(11, '', { seq: 8 })), CatalogChange.INVALID, 'a listing without a symbol cannot be served');
  t.equal(fresh.applyJournalListing(listing(11, 'lower', { seq: 8 })), CatalogChange.INVALID);
  t.equal(fresh.applyJournalListing(listing(11, 'OK-11', { tickSize: 0, seq: 8 })), CatalogChange.INVALID);
});

t.test(`the catalog holds at most MAX_PRODUCTS (${MAX_PRODUCTS}) products`, async (t) => {
  const c = ProductCatalog.fromList({ products: [] });
  let added = 0;
  for (let id = 1; id <= MAX_PRODUCTS; id++) if (c.applyJournalListing(listing(id, `P${id}`, { seq: id })) === CatalogChange.ADDED) added++;
  t.equal(added, MAX_PRODUCTS, 'every product up to the bound is added');
  t.equal(c.size, MAX_PRODUCTS);
  t.equal(c.applyJournalListing(listing(MAX_PRODUCTS + 1, 'ONE-MORE', { seq: MAX_PRODUCTS + 1 })), CatalogChange.FULL);
  t.equal(c.applyJournalListing(listing(5, 'P5', { halted: true, seq: MAX_PRODUCTS + 2 })), CatalogChange.STATE, 'a full catalog still takes state changes');
});

/** A journal entry as ProductListings.apply reads it: JournalHeader (seq) then the body. */
function entry(desc: AnyMessage, seq: number, value: Record<string, number | string>): DataView {
  const view = new DataView(new ArrayBuffer(JOURNAL_HEADER_BYTES + desc.size));
  view.setBigInt64(0, BigInt(seq), true);
  encode(desc, value as ValueOf<AnyMessage>, view, JOURNAL_HEADER_BYTES);
  return view;
}

t.test('the publisher\'s product table follows the product manager\'s listing rules', async (t) => {
  const l = new ProductListings(2);
  const list = (seq: number, productId: number, symbol: string, tickSize = 1): number =>
    l.apply(ListProduct.typeId, ListProduct.version, entry(ListProduct, seq, { tickSize, lotSize: 1, referencePrice: 100, productId, brandId: 1, selfTradePolicy: 0, symbol, brand: 'Apple' }), 0);
  const cmd = (desc: AnyMessage, seq: number, productId: number): number => l.apply(desc.typeId, desc.version, entry(desc, seq, { productId }), 0);
  t.equal(list(1, 7, 'NEW-7'), ListingResult.CHANGED);
  t.equal(l.changedCause, ProductStatusCause.LISTED);
  t.equal(list(2, 7, 'OTHER', 5), ListingResult.ALREADY_LISTED, 'the first listing stands');
  t.equal(l.tickSize[l.rowOfProduct(7)], 1);
  t.equal(cmd(HaltProduct, 3, 8), ListingResult.UNKNOWN_PRODUCT, 'halting an unlisted product changes nothing');
  t.equal(cmd(HaltProduct, 4, 7), ListingResult.CHANGED);
  t.equal(l.state[l.rowOfProduct(7)], ProductState.HALTED);
  t.equal(l.seq[l.rowOfProduct(7)], 4);
  t.equal(cmd(ResumeProduct, 5, 7), ListingResult.CHANGED);
  t.equal(l.changedCause, ProductStatusCause.RESUMED);
  t.equal(cmd(DelistProduct, 6, 7), ListingResult.CHANGED);
  t.equal(cmd(HaltProduct, 7, 7), ListingResult.UNKNOWN_PRODUCT, 'a delisted product cannot be halted');
  t.equal(list(8, 7, 'NEW-7', 5), ListingResult.CHANGED, 'a delisted id is listed afresh');
  t.equal(l.tickSize[l.rowOfProduct(7)], 5);
  t.equal(l.rows, 1, 'in its old row');
  t.equal(list(9, 0, 'ZERO'), ListingResult.INVALID);
  t.equal(list(9, 9, 'BAD-TICK', 0), ListingResult.INVALID);
  t.equal(list(10, 9, 'NINE'), ListingResult.CHANGED);
  t.equal(list(11, 10, 'TEN'), ListingResult.FULL, 'the table is bounded');
  t.equal(l.apply(HaltProduct.typeId, 9, entry(HaltProduct, 12, { productId: 7 }), 0), ListingResult.UNSUPPORTED_VERSION, 'a layout version it does not know is not read');
  t.equal(l.apply(TradingDayOpen.typeId, 1, entry(TradingDayOpen, 13, { tradingDay: 20260101 }), 0), ListingResult.IGNORED, 'other entries are not product commands');
  t.equal(l.state[l.rowOfProduct(7)], ProductState.TRADING);
});

interface SeenStatus {
  productId: number;
  symbol: string;
  brand: string;
  brandId: number;
  tickSize: number;
  lotSize: number;
  referencePrice: number;
  seq: number;
  state: number;
  cause: number;
}

t.test('listings, halts and resumes reach a gateway catalog through the publisher, also for a gateway that starts later', async (t) => {
  const bus = makeBus(t, 'md-products', { inputs: 1, journalBytes: 1 << 22 });
  const journalDir = tempDir(t, 'md-products-journal');
  const mdDir = tempDir(t, 'md-products-data');
  const sequencer = Sequencer.open({ inputs: bus.inputs, journalRing: bus.journal, dataDir: journalDir, durability: 'async', log: () => undefined });
  t.teardown(() => sequencer.close());
  const commands = new RingProducer(RingFile.open(bus.inputs[0]!));
  t.teardown(() => commands.close());
  let sourceSeq = 0;
  const send = (desc: AnyMessage, value: Record<string, number | string>): void => {
    const at = commands.tryClaim(desc.typeId, desc.version, INPUT_HEADER_BYTES + desc.size);
    encode(InputHeader, { sourceSeq: ++sourceSeq, sourceId: SourceId.CONTROL, flags: 0, epoch: 0 }, commands.ring.view, at);
    encode(desc, value as ValueOf<AnyMessage>, commands.ring.view, at + INPUT_HEADER_BYTES);
    commands.commit();
    while (sequencer.doWork() > 0);
  };
  const listProduct = (productId: number, symbol: string, tickSize: number, lotSize: number): void =>
    send(ListProduct, { tickSize, lotSize, referencePrice: tickSize * 1000, productId, brandId: 4, selfTradePolicy: 0, symbol, brand: 'Bose' });

  const mdRing = path.join(bus.dir, 'marketdata.ring');
  const queryRing = queryRingPath(bus.dir, 1);
  const openPublisher = async (): Promise<MarketDataPublisher> =>
    new MarketDataPublisher({ journalRing: bus.journal, marketDataRing: mdRing, marketDataRingBytes: 1 << 20, queryRings: [queryRing], store: await openMarketDataStore({ kind: 'sqlite', file: path.join(mdDir, 'marketdata.sqlite') }), journalDataDir: journalDir });
  let publisher = await openPublisher();
  t.teardown(() => publisher.close());
  // An observer of the broadcast ring: every ProductStatus the publisher sends.
  const mdRingFile = RingFile.open(mdRing);
  ensureConsumer(mdRingFile, 'observer', false);
  const observer = new RingConsumer(mdRingFile, 'observer', { gating: false });
  t.teardown(() => observer.close());
  const seen: SeenStatus[] = [];
  const observe = (): void => {
    observer.poll((typeId, _v, buf, offset) => {
      if (typeId !== ProductStatus.typeId) return;
      const v = buf.view;
      const o = ProductStatus.o;
      seen.push({
        productId: readU32(v, offset + o.productId),
        symbol: readChars(v, offset + o.symbol, 16),
        brand: readChars(v, offset + o.brand, 16),
        brandId: readU32(v, offset + o.brandId),
        tickSize: readI64(v, offset + o.tickSize),
        lotSize: readI64(v, offset + o.lotSize),
        referencePrice: readI64(v, offset + o.referencePrice),
        seq: readI64(v, offset + o.seq),
        state: readU8(v, offset + o.state),
        cause: readU8(v, offset + o.cause),
      });
    }, 10_000);
  };
  const runPublisher = (): void => {
    for (let i = 0; i < 10 && publisher.doWork(Date.now()) > 0; i++);
    publisher.doWork(Date.now());
  };
  runPublisher(); // the first unit also publishes the (empty) periodic refresh

  // Before any gateway runs: product 1 confirmed as the seed has it, product 2 listed with other
  // parameters than the seed's, a new product 7 listed and halted, a repeated listing and a halt of
  // an unlisted product (both change nothing).
  listProduct(1, 'SEED-1', 1, 1);
  listProduct(2, 'SEED-2', 5, 10);
  listProduct(7, 'NEW-7', 5, 10);
  send(HaltProduct, { productId: 7 });
  listProduct(7, 'NEW-7X', 1, 1);
  send(HaltProduct, { productId: 99 });
  runPublisher();
  observe();
  const changes = seen.filter((s) => s.cause !== ProductStatusCause.SNAPSHOT);
  t.same(
    changes.map((s) => [s.cause, s.productId, s.symbol, s.state]),
    [
      [ProductStatusCause.LISTED, 1, 'SEED-1', ProductState.TRADING],
      [ProductStatusCause.LISTED, 2, 'SEED-2', ProductState.TRADING],
      [ProductStatusCause.LISTED, 7, 'NEW-7', ProductState.TRADING],
      [ProductStatusCause.HALTED, 7, 'NEW-7', ProductState.HALTED],
    ],
    'one record per change, in journal order; the repeated listing and the unknown halt publish nothing',
  );
  t.match(changes[2], { brand: 'Bose', brandId: 4, tickSize: 5, lotSize: 10, referencePrice: 5000 }, 'a listing carries its parameters');
  t.ok(changes[3]!.seq > changes[2]!.seq, 'each record carries the seq of its journal entry');

  // A gateway starting now, seeded from the file: it asks for the product list at start.
  const catalog = ProductCatalog.fromList(SEED_FILE);
  const feed = new MarketDataFeed(1, mdRing, queryRing, catalog);
  feed.start();
  t.teardown(() => feed.stop());
  seen.length = 0;
  runPublisher();
  observe();
  t.same(
    seen.map((s) => [s.cause, s.productId, s.state]),
    [
      [ProductStatusCause.SNAPSHOT, 1, ProductState.TRADING],
      [ProductStatusCause.SNAPSHOT, 2, ProductState.TRADING],
      [ProductStatusCause.SNAPSHOT, 7, ProductState.HALTED],
    ],
    'the PRODUCTS query is answered with every listed product and its state',
  );
  feed.pollNow();
  t.match(catalog.bySymbolAnyCase('NEW-7'), { productId: 7, tickSize: 5, lotSize: 10, brand: 'Bose', halted: true }, 'the later gateway knows the product listed before it started, halted');
  t.match(catalog.bySymbolAnyCase('SEED-2'), { productId: 2, tickSize: 5, lotSize: 10 }, 'where the journal and the seed file disagree, the journal wins');
  t.match(catalog.bySymbolAnyCase('SEED-1'), { productId: 1, tickSize: 1 });
  t.ok(feed.mirrors.has(7) && feed.tapes.has(7), 'the new product has a book mirror and a trade tape');
  // 1 confirmed, 2 replaced, 7 added (and halted, if the feed also read the records from before it started).
  t.ok(feed.stats.productChanges >= 3, `the catalog changed (${feed.stats.productChanges} changes)`);

  // Live changes arrive as they are journaled.
  send(ResumeProduct, { productId: 7 });
  listProduct(8, 'NEW-8', 1, 1);
  runPublisher();
  feed.pollNow();
  t.equal(catalog.byProductId(7)?.halted, false, 'a resume reaches the catalog');
  t.match(catalog.bySymbolAnyCase('NEW-8'), { productId: 8, halted: false }, 'a listing reaches the catalog');
  t.ok(feed.mirrors.has(8));
  // The new product's book: the gateway asked for a snapshot; the publisher answers with the empty book.
  runPublisher();
  feed.pollNow();
  t.equal(feed.mirrors.get(8)?.live, true, 'the new product\'s book mirror is in sync (an empty book)');

  // A publisher restarted from scratch replays the journal and re-sends old records: ignored.
  await publisher.close();
  publisher = await openPublisher();
  // Its journal reader finds the ring ahead of it and reads the disk journal from seq 1 (after a short stall).
  const deadline = Date.now() + 10_000;
  while (publisher.reader.nextSeq <= sequencer.headSeq && Date.now() < deadline) {
    runPublisher();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  feed.pollNow();
  t.equal(catalog.byProductId(7)?.halted, false, 'the replayed halt of product 7 (older than the resume) does not halt it again');
  t.equal(publisher.listings.rows, 4, 'the restarted publisher rebuilt the product table from the journal');
  t.equal(publisher.listings.state[publisher.listings.rowOfProduct(7)], ProductState.TRADING);

  // A delisting removes the product from the catalog and its mirror.
  send(DelistProduct, { productId: 8 });
  runPublisher();
  feed.pollNow();
  t.equal(catalog.bySymbolAnyCase('NEW-8'), undefined, 'a delisted product leaves the catalog');
  t.notOk(feed.mirrors.has(8), 'and its mirror goes');
  t.equal(catalog.bySymbolAnyCase('SEED-1')?.productId, 1, 'the other products stay');
});
