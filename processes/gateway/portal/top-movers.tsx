// Top movers: the products that moved most today, ranked by the change of their last price since
// the day's open. Both come from each product's DAY CANDLE (GET /marketdata/snapshot at
// resolution 86400, the exchange's local day): open = the day's first trade, close = its latest.
// Products that have not traded today are left out. Reloaded every REFRESH_MS, a few products at
// a time so a hundred products never burst the gateway.

import { useEffect, useState } from 'preact/hooks';
import { loadDayCandle } from './dashboard-market-data';

export const REFRESH_MS = 10_000;
/** Day-candle requests in flight at once. */
export const CONCURRENT_REQUESTS = 6;
export const MOVERS_SHOWN = 8;

interface Mover {
  readonly symbol: string;
  readonly open: number;
  readonly last: number;
  readonly changePct: number;
  readonly volume: number;
}

async function dayMovers(symbols: readonly string[]): Promise<Mover[]> {
  const out: Mover[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < symbols.length) {
      const symbol = symbols[next++]!;
      const day = await loadDayCandle(symbol).catch(() => null);
      if (day === null || !(day.open > 0)) continue;
      out.push({ symbol, open: day.open, last: day.close, changePct: ((day.close - day.open) / day.open) * 100, volume: day.volume });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENT_REQUESTS, symbols.length) }, worker));
  return out.sort((a, b) => Math.abs(b.changePct) - Math.abs(a.changePct) || b.volume - a.volume || a.symbol.localeCompare(b.symbol)).slice(0, MOVERS_SHOWN);
}

export function TopMovers(props: { symbols: readonly string[]; onPick?: (symbol: string) => void }): preact.JSX.Element {
  const [movers, setMovers] = useState<Mover[] | null>(null);
  useEffect(() => {
    if (props.symbols.length === 0) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const round = (): void => {
      void dayMovers(props.symbols).then((m) => {
        if (stopped) return;
        setMovers(m);
        timer = setTimeout(round, REFRESH_MS);
      });
    };
    round();
    return () => {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [props.symbols]);

  return (
    <section class="card" aria-labelledby="movers-title">
      <h2 id="movers-title">Top movers today</h2>
      <p class="muted small">Change of the last price since the day's open (each product's day candle, exchange local day).</p>
      {movers === null ? (
        <p class="muted">Loading…</p>
      ) : movers.length === 0 ? (
        <p class="muted">No product has traded today.</p>
      ) : (
        <table class="movers">
          <thead>
            <tr>
              <th scope="col">Product</th>
              <th scope="col" class="num">
                Open
              </th>
              <th scope="col" class="num">
                Last
              </th>
              <th scope="col" class="num">
                Change
              </th>
              <th scope="col" class="num">
                Volume
              </th>
            </tr>
          </thead>
          <tbody>
            {movers.map((m) => (
              <tr key={m.symbol}>
                <td>{props.onPick === undefined ? m.symbol : <button type="button" class="link" onClick={() => props.onPick!(m.symbol)}>{m.symbol}</button>}</td>
                <td class="num">{m.open.toFixed(2)}</td>
                <td class="num">{m.last.toFixed(2)}</td>
                <td class={`num ${m.changePct > 0 ? 'up' : m.changePct < 0 ? 'down' : ''}`}>{`${m.changePct > 0 ? '+' : ''}${m.changePct.toFixed(2)} %`}</td>
                <td class="num">{m.volume}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
