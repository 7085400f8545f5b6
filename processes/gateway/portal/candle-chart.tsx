// Candlestick chart with volume (TradingView lightweight-charts, bundled; no CDN) at the
// market-data publisher's resolutions 1m / 5m / 1h / 1w / 1mo. History comes from
// GET /marketdata/snapshot; when the page passes a live source (LiveSource), the forming candle is updated
// from the `candles:SYMBOL:SECONDS` channel as trades happen. The chart is rebuilt on every
// change of product or resolution, so what is drawn is always one consistent series.

import { CandlestickSeries, createChart, HistogramSeries, type IChartApi, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { chartCandleOf, loadCandles, RESOLUTIONS, type LiveSource } from './dashboard-market-data';
import type { StreamMessage } from './stream-client';

const CHART_HEIGHT_PX = 320;
/** Candle colours: the portal's inflow green and outflow red (portal.css), so tests can find them. */
export const CANDLE_UP_COLOR = '#146c2e';
export const CANDLE_DOWN_COLOR = '#a3261b';
const VOLUME_COLOR = 'rgba(11, 92, 173, 0.55)';

export interface CandleChartProps {
  readonly symbols: readonly string[];
  /** The page's live channels; without them the chart shows history only. */
  readonly live?: LiveSource;
  /** A chosen product controlled by the page (then the product selector follows it). */
  readonly symbol?: string;
  readonly onSymbolChange?: (symbol: string) => void;
}

export function CandleChart(props: CandleChartProps): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const [ownSymbol, setOwnSymbol] = useState('');
  const [seconds, setSeconds] = useState(60);
  const [status, setStatus] = useState('');
  const chosen = props.symbol || ownSymbol || props.symbols[0] || '';
  const resolution = RESOLUTIONS.find((r) => r.seconds === seconds)!;
  const choose = (s: string): void => {
    setOwnSymbol(s);
    props.onSymbolChange?.(s);
  };

  useEffect(() => {
    if (box.current === null || chosen === '') return;
    const c = createChart(box.current, { height: CHART_HEIGHT_PX, autoSize: true, layout: { attributionLogo: false }, timeScale: { timeVisible: seconds < 86_400, secondsVisible: false } });
    chart.current = c;
    const price = c.addSeries(CandlestickSeries, { upColor: CANDLE_UP_COLOR, downColor: CANDLE_DOWN_COLOR, borderUpColor: CANDLE_UP_COLOR, borderDownColor: CANDLE_DOWN_COLOR, wickUpColor: CANDLE_UP_COLOR, wickDownColor: CANDLE_DOWN_COLOR });
    const volume = c.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' }, color: VOLUME_COLOR });
    c.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    let stopped = false;
    let lastTime = 0;
    let count = 0;
    const show = (n: number): void => setStatus(n === 0 ? `no trades yet at ${resolution.label}` : `${n} ${n === 1 ? 'candle' : 'candles'} at ${resolution.label}`);
    const load = (): void => {
      loadCandles(chosen, resolution).then(
        (rows) => {
          if (stopped) return;
          price.setData(rows.map((r) => ({ time: r.time as UTCTimestamp, open: r.open, high: r.high, low: r.low, close: r.close })));
          volume.setData(rows.map((r) => ({ time: r.time as UTCTimestamp, value: r.volume })));
          lastTime = rows.at(-1)?.time ?? 0;
          count = rows.length;
          if (count > 0) c.timeScale().fitContent();
          show(count);
        },
        (e: Error) => !stopped && setStatus(`candles could not be loaded: ${e.message}`),
      );
    };
    load();
    const onCandle = (m: StreamMessage): void => {
      if (stopped || m.type !== 'candle') return;
      const k = chartCandleOf(m as unknown as Parameters<typeof chartCandleOf>[0]);
      // The series accepts the newest bar or a later one only; an older (late) message is dropped.
      if (k.time < lastTime) return;
      if (k.time > lastTime) count++;
      lastTime = k.time;
      price.update({ time: k.time as UTCTimestamp, open: k.open, high: k.high, low: k.low, close: k.close });
      volume.update({ time: k.time as UTCTimestamp, value: k.volume });
      show(count);
    };
    const unsubscribe = props.live?.subscribe(`candles:${chosen}:${seconds}`, onCandle);
    const unReopen = props.live?.onReopen(load);
    return () => {
      stopped = true;
      unsubscribe?.();
      unReopen?.();
      c.remove();
      chart.current = null;
    };
  }, [chosen, seconds, props.live]);

  return (
    <section class="card chart" aria-labelledby="chart-title">
      <h2 id="chart-title">Candles</h2>
      <div class="row">
        {/* One product (the kiosk's product page): the page names it; a second "Product" control beside the ticket's would only confuse. */}
        {props.symbols.length > 1 && (
          <>
            <label for="chart-symbol">Product</label>
            <select id="chart-symbol" value={chosen} onChange={(e) => choose(e.currentTarget.value)}>
              {props.symbols.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </>
        )}
        <span role="group" aria-label="Resolution">
          {RESOLUTIONS.map((r) => (
            <button key={r.label} type="button" aria-pressed={r.seconds === seconds} onClick={() => setSeconds(r.seconds)}>
              {r.label}
            </button>
          ))}
        </span>
      </div>
      <div ref={box} class="chart-box" role="img" aria-label={`Candlestick chart with volume of ${chosen} at ${resolution.label}`} data-symbol={chosen} data-resolution={seconds} />
      <p class="muted" role="status" id="chart-status">
        {status}
      </p>
    </section>
  );
}
