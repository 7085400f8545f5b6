// The kiosk portal (served at /): log in or apply, then the product board (or one product's page:
// depth ladder, trade tape, candles), the order ticket, the wallet, the open orders and fills as
// they happen. Laid out for a 1280×800 touch screen; every control is a labelled element reachable
// by keyboard. Fills are announced in an aria-live region and shown as a visible notice. One
// WebSocket carries both the colleague's executions and the market data (market-feed.tsx); the
// wallet is read again after every execution and every order change (wallet-panel.tsx).

import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, logOut, type Account } from './api-client';
import { KycApplication } from './kyc-application';
import { LoginForm } from './login-form';
import { MarketFeed } from './market-feed';
import { OPEN_STATUSES, OpenOrders, type Order } from './open-orders';
import { OrderTicket } from './order-ticket';
import { ProductBoard, type Product } from './product-board';
import { ProductPage } from './product-page';
import { OrderStream, type StreamMessage, type StreamState } from './stream-client';
import { useWallet, WalletPanel } from './wallet-panel';

/** Fill notices kept on screen (oldest dropped first). */
const NOTICES_MAX = 5;
/** How long a fill notice stays visible. */
const NOTICE_VISIBLE_MS = 8_000;
/** The requestId of the stream's open-orders request (the answer replaces the list). */
const OPEN_ORDERS_REQUEST = 'open-orders';

interface Notice {
  readonly key: string;
  readonly text: string;
}

function fillText(o: Order): string {
  const qty = o.lastQuantity ?? o.filledQuantity;
  const price = o.lastPrice ?? o.price;
  return `Fill: ${o.side} ${qty} ${o.symbol} at ${price} — order ${o.id} ${o.remainingQuantity === 0 ? 'filled' : `${o.remainingQuantity} left`}`;
}

function Trading(props: { account: Account; onLogOut: () => void }): preact.JSX.Element {
  const [products, setProducts] = useState<Product[]>([]);
  const [symbol, setSymbol] = useState('');
  const [orders, setOrders] = useState<Order[]>([]);
  const [notices, setNotices] = useState<Notice[]>([]);
  const [announcement, setAnnouncement] = useState('');
  const [streamState, setStreamState] = useState<StreamState>('connecting');
  const [loadError, setLoadError] = useState('');
  const [feed, setFeed] = useState<MarketFeed | null>(null);
  const [pageSymbol, setPageSymbol] = useState('');
  const [offer, setOffer] = useState<{ price: string; seq: number } | undefined>(undefined);
  const wallet = useWallet();
  const refreshWallet = wallet.refresh;

  // Every order change moves reservations (and a fill moves cash and stock): read the wallet again.
  const upsert = useCallback(
    (o: Order) => {
      setOrders((prev) => {
        const rest = prev.filter((x) => x.id !== o.id);
        return OPEN_STATUSES.has(o.status) ? [...rest, o].sort((a, b) => a.creationTime - b.creationTime) : rest;
      });
      refreshWallet();
    },
    [refreshWallet],
  );

  const onMessage = useCallback(
    (m: StreamMessage) => {
      // The open orders as the exchange holds them, asked for on every (re)connection: fills and
      // removals missed while the stream was down are then caught up.
      if (m.type === 'orders' && m['requestId'] === OPEN_ORDERS_REQUEST) {
        setOrders(m['orders'] as Order[]);
        return;
      }
      if (m.type !== 'execution') return;
      const o = m['order'] as Order;
      upsert(o);
      if ((o.lastQuantity ?? 0) > 0 || o.status === 'filled' || o.status === 'partially_filled') {
        const text = fillText(o);
        const key = String(m['execId'] ?? m['eventSeq'] ?? Date.now());
        setAnnouncement(text);
        setNotices((prev) => [...prev.slice(-(NOTICES_MAX - 1)), { key, text }]);
        setTimeout(() => setNotices((prev) => prev.filter((n) => n.key !== key)), NOTICE_VISIBLE_MS);
      }
    },
    [upsert],
  );

  useEffect(() => {
    api<{ products: Product[] }>('GET', '/v1/products')
      .then((r) => {
        setProducts(r.products);
        setSymbol((s) => s || (r.products[0]?.symbol ?? ''));
      })
      .catch((e: Error) => setLoadError(e.message));
    api<{ orders: Order[] }>('GET', '/v1/transact?status=open')
      .then((r) => setOrders(r.orders))
      .catch((e: Error) => setLoadError(e.message));
    let f: MarketFeed | null = null;
    const s = new OrderStream(onMessage, (state) => {
      setStreamState(state);
      f?.streamState(state);
      if (state === 'open') s.send({ type: 'orders', requestId: OPEN_ORDERS_REQUEST });
    });
    f = new MarketFeed(s);
    setFeed(f);
    s.start();
    return () => s.stop();
  }, [onMessage]);

  const page = pageSymbol === '' ? undefined : products.find((p) => p.symbol === pageSymbol);
  const openPage = (symbol: string): void => {
    setSymbol(symbol);
    setPageSymbol(symbol);
  };

  // A fill that the order's own answer already carried is announced too (the stream does not
  // repeat fills that answered the request).
  const onPlaced = (o: Order): void => {
    upsert(o);
    if (o.filledQuantity > 0) onMessage({ type: 'execution', execId: `placed-${o.id}-${o.filledQuantity}`, order: o });
  };

  return (
    <div class="layout">
      <header class="topbar">
        <span class="brand">IMS kiosk</span>
        <span>
          {props.account.username} · outlet {props.account.outletId}
        </span>
        <span class={`conn ${streamState}`} role="status">
          live: {streamState}
        </span>
        <button type="button" onClick={props.onLogOut}>
          Log out
        </button>
      </header>
      {loadError !== '' && (
        <p class="form-error" role="alert">
          {loadError}
        </p>
      )}
      <main class="kiosk-grid">
        <div class="stack">
          {page !== undefined && feed !== null ? (
            <ProductPage feed={feed} product={page} wallet={wallet.wallet} onBack={() => setPageSymbol('')} onPrice={(price) => setOffer((o) => ({ price, seq: (o?.seq ?? 0) + 1 }))} />
          ) : (
            <ProductBoard products={products} selected={symbol} feed={feed} wallet={wallet.wallet} onSelect={setSymbol} onOpen={openPage} />
          )}
        </div>
        <div class="stack">
          <OrderTicket products={products} symbol={symbol} wallet={wallet.wallet} offer={offer} onSymbol={setSymbol} onPlaced={onPlaced} />
          <OpenOrders orders={orders} onChanged={upsert} />
          <WalletPanel state={wallet} selected={symbol} />
        </div>
      </main>
      <div class="notices" aria-hidden="true">
        {notices.map((n) => (
          <div key={n.key} class="notice fill">
            {n.text}
          </div>
        ))}
      </div>
      <div id="fill-announcer" class="sr-only" aria-live="assertive" aria-atomic="true">
        {announcement}
      </div>
    </div>
  );
}

function Kiosk(): preact.JSX.Element {
  const [account, setAccount] = useState<Account | null>(null);
  const [applying, setApplying] = useState(false);
  if (account !== null) {
    return <Trading account={account} onLogOut={() => void logOut().finally(() => setAccount(null))} />;
  }
  if (applying) return <main class="center">{<KycApplication onDone={() => setApplying(false)} />}</main>;
  return (
    <main class="center">
      <LoginForm
        title="IMS kiosk — log in"
        onLoggedIn={setAccount}
        extra={
          <button type="button" class="link" onClick={() => setApplying(true)}>
            New colleague? Apply for an account
          </button>
        }
      />
    </main>
  );
}

render(<Kiosk />, document.getElementById('app')!);
