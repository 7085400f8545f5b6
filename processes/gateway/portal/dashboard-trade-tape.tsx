// The trade tape of the product the dashboard's chart shows: the latest trades from
// GET /marketdata/trades, then every new one from the `trades:SYMBOL` channel, newest first.
// The channel also replays the trades it kept when it is subscribed, so trades are keyed by id.
// The rows are the kiosk's (trade-tape.tsx TradeTable); only where the trades come from differs.

import { useEffect, useState } from 'preact/hooks';
import { loadTrades, type LiveSource, type Trade } from './dashboard-market-data';
import type { StreamMessage } from './stream-client';
import { TradeTable } from './trade-tape';

/** Rows the tape keeps (the gateway keeps 100 per product). */
export const TAPE_ROWS = 30;

function merged(existing: readonly Trade[], incoming: readonly Trade[]): Trade[] {
  const byId = new Map<string, Trade>();
  for (const t of existing) byId.set(t.id, t);
  for (const t of incoming) byId.set(t.id, t);
  return [...byId.values()].sort((a, b) => b.time - a.time || Number(b.id) - Number(a.id)).slice(0, TAPE_ROWS);
}

export function TradeTape(props: { symbol: string; live: LiveSource }): preact.JSX.Element {
  const [trades, setTrades] = useState<Trade[]>([]);
  const [problem, setProblem] = useState('');
  useEffect(() => {
    if (props.symbol === '') return;
    let stopped = false;
    setTrades([]);
    const load = (): void => {
      loadTrades(props.symbol, TAPE_ROWS).then(
        (list) => {
          if (stopped) return;
          setProblem('');
          setTrades((old) => merged(old, list));
        },
        (e: Error) => !stopped && setProblem(`trades could not be loaded: ${e.message}`),
      );
    };
    load();
    const onTrade = (m: StreamMessage): void => {
      if (stopped || m.type !== 'trade') return;
      const t: Trade = { id: String(m['id']), price: String(m['price']), size: Number(m['size']), takerSide: String(m['takerSide']), time: Number(m['time']) };
      setTrades((old) => merged(old, [t]));
    };
    const unsubscribe = props.live.subscribe(`trades:${props.symbol}`, onTrade);
    const unReopen = props.live.onReopen(load);
    return () => {
      stopped = true;
      unsubscribe();
      unReopen();
    };
  }, [props.symbol, props.live]);

  return (
    <section class="card tape" aria-labelledby="tape-title">
      <h2 id="tape-title">Trade tape · {props.symbol}</h2>
      {problem !== '' && <p class="form-error">{problem}</p>}
      <TradeTable symbol={props.symbol} trades={trades} />
    </section>
  );
}
