// The colleague's wallet (GET /v1/wallet): cash balance, reserved and available, inventory per
// product, and each brand's daily limit left. The kiosk reads it on log-in and again after every
// execution push and every order it places, updates or removes (reservations change with each);
// WalletSource coalesces those into at most one request in flight plus one queued. When the
// gateway does not serve the wallet (an older gateway, or an error), the panel says "wallet
// unavailable" with the gateway's reason instead of showing stale or made-up numbers.

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError } from './api-client';

export interface WalletCash {
  readonly balance: string;
  readonly reserved: string;
  readonly available: string;
}

export interface WalletInventory {
  /** null for a product this gateway does not list. */
  readonly symbol: string | null;
  readonly productId: number;
  readonly balance: number;
  readonly reserved: number;
  readonly available: number;
}

export interface BrandLimit {
  /** Brand name (null when the gateway lists no product of it). */
  readonly brand: string | null;
  readonly brandId: number;
  readonly limitUnits: number;
  readonly usedTodayUnits: number;
  readonly leftUnits: number;
}

/** The daily limit on the value of order updates (decimal strings). */
export interface NotionalLimit {
  readonly limit: string;
  readonly usedToday: string;
  readonly left: string;
}

/** GET /v1/wallet (processes/gateway/wallet-routes.ts). */
export interface Wallet {
  readonly accountId: number;
  readonly outletId: number;
  readonly cash: WalletCash;
  readonly inventory: readonly WalletInventory[];
  readonly notionalLimit?: NotionalLimit;
  readonly brandLimits?: readonly BrandLimit[];
  readonly time: number;
  readonly truncated?: boolean;
}

export interface WalletState {
  readonly wallet: Wallet | null;
  /** '' while the last read succeeded; otherwise why the wallet is unavailable. */
  readonly error: string;
  readonly loading: boolean;
}

/** Longest the panel waits between reads when nothing happens (catches deposits and receipts). */
const WALLET_IDLE_REFRESH_MS = 30_000;

function unavailable(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 404) return `Wallet unavailable: this gateway does not serve GET /v1/wallet (${e.code}).`;
    return `Wallet unavailable: ${e.detail} (${e.code}).`;
  }
  return `Wallet unavailable: ${e instanceof Error ? e.message : String(e)}.`;
}

/** The wallet of the logged-in colleague, with refresh() to read it again (coalesced). */
export function useWallet(): WalletState & { refresh: () => void } {
  const [state, setState] = useState<WalletState>({ wallet: null, error: '', loading: true });
  const flight = useRef<{ running: boolean; again: boolean; stopped: boolean }>({ running: false, again: false, stopped: false });

  const refresh = useRef((): void => {
    const f = flight.current;
    if (f.running) {
      f.again = true;
      return;
    }
    f.running = true;
    api<Wallet>('GET', '/v1/wallet')
      .then((w) => !f.stopped && setState({ wallet: w, error: '', loading: false }))
      .catch((e: unknown) => !f.stopped && setState((s) => ({ wallet: s.wallet, error: unavailable(e), loading: false })))
      .finally(() => {
        f.running = false;
        if (f.again && !f.stopped) {
          f.again = false;
          refresh.current();
        }
      });
  });

  useEffect(() => {
    const f = flight.current;
    f.stopped = false;
    refresh.current();
    const timer = setInterval(() => refresh.current(), WALLET_IDLE_REFRESH_MS);
    return () => {
      f.stopped = true;
      clearInterval(timer);
    };
  }, []);

  return { ...state, refresh: refresh.current };
}

/** The brand limit that applies to a product: matched by brand name or by the symbol's brand code. */
export function brandLimitOf(wallet: Wallet | null, product: { symbol: string; brand: string } | undefined): BrandLimit | undefined {
  if (wallet === null || product === undefined) return undefined;
  const code = product.symbol.split('-')[0] ?? '';
  return (wallet.brandLimits ?? []).find((b) => b.brand === product.brand || b.brand === code);
}

export function inventoryOf(wallet: Wallet | null, symbol: string): WalletInventory | undefined {
  return wallet?.inventory.find((i) => i.symbol === symbol);
}

export function WalletPanel(props: { state: WalletState; selected: string }): preact.JSX.Element {
  const { wallet, error, loading } = props.state;
  const chosen = wallet === null ? undefined : inventoryOf(wallet, props.selected);
  const held = wallet === null ? [] : wallet.inventory.filter((i) => i.balance > 0 || i.reserved > 0);
  return (
    <section class="card wallet" aria-labelledby="wallet-title" aria-busy={loading}>
      <h2 id="wallet-title">Wallet</h2>
      {error !== '' && (
        <p class="note" role="status" id="wallet-error">
          {error}
        </p>
      )}
      {wallet === null ? (
        loading && error === '' ? <p class="muted">Reading the wallet…</p> : null
      ) : (
        <>
          <p class="muted small" id="wallet-owner">
            Account {wallet.accountId} · outlet {wallet.outletId}
          </p>
          <dl class="cash" aria-label="Cash">
            <div>
              <dt>Cash balance</dt>
              <dd class="num" id="wallet-cash-balance">{wallet.cash.balance}</dd>
            </div>
            <div>
              <dt>Reserved</dt>
              <dd class="num" id="wallet-cash-reserved">{wallet.cash.reserved}</dd>
            </div>
            <div>
              <dt>Available</dt>
              <dd class="num" id="wallet-cash-available">{wallet.cash.available}</dd>
            </div>
          </dl>
          {wallet.truncated === true && <p class="note">The account holds more products than one answer carries; some are not listed.</p>}
          {chosen !== undefined && (
            <p class="wallet-chosen" id="wallet-selected">
              {chosen.symbol}: {chosen.balance} held, {chosen.reserved} reserved, {chosen.available} available
            </p>
          )}
          <div class="scroll" tabIndex={0} aria-label="Inventory per product">
            <table>
              <caption class="sr-only">Inventory per product</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col" class="num">Held</th>
                  <th scope="col" class="num">Reserved</th>
                  <th scope="col" class="num">Available</th>
                </tr>
              </thead>
              <tbody>
                {held.map((i) => (
                  <tr key={i.productId} data-symbol={i.symbol ?? undefined} class={i.symbol === props.selected ? 'chosen' : undefined}>
                    <th scope="row">{i.symbol ?? `product ${i.productId}`}</th>
                    <td class="num">{i.balance}</td>
                    <td class="num">{i.reserved}</td>
                    <td class="num">{i.available}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {held.length === 0 && <p class="muted">No stock held.</p>}
          </div>
        </>
      )}
    </section>
  );
}
