// Candlestick chart with volume (TradingView lightweight-charts, bundled; no CDN), fed from the
// gateway's market data when it has it. Resolutions are the market-data publisher's.

import { CandlestickSeries, createChart, HistogramSeries, type IChartApi, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef, useState } from 'preact/hooks';
import { candles, marketDataAvailability } from './market-data-client';

const RESOLUTIONS = ['1m', '5m', '1h', '1w', '1mo'] as const;
const CHART_HEIGHT_PX = 320;

export function CandleChart(props: { symbols: readonly string[] }): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<IChartApi | null>(null);
  const [symbol, setSymbol] = useState('');
  const [resolution, setResolution] = useState<string>('1m');
  const [status, setStatus] = useState('');
  const [available, setAvailable] = useState<boolean | null>(null);
  const chosen = symbol || props.symbols[0] || '';

  useEffect(() => {
    void marketDataAvailability().then((a) => setAvailable(a.snapshot));
  }, []);

  useEffect(() => {
    if (available !== true || box.current === null || chosen === '') return;
    const c = createChart(box.current, { height: CHART_HEIGHT_PX, autoSize: true, layout: { attributionLogo: false } });
    chart.current = c;
    const price = c.addSeries(CandlestickSeries, {});
    const volume = c.addSeries(HistogramSeries, { priceScaleId: 'volume', priceFormat: { type: 'volume' } });
    c.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    let stopped = false;
    void candles(chosen, resolution).then((rows) => {
      if (stopped) return;
      if (rows === null) return setStatus('market data did not answer');
      price.setData(rows.map((r) => ({ time: r.time as UTCTimestamp, open: r.open, high: r.high, low: r.low, close: r.close })));
      volume.setData(rows.map((r) => ({ time: r.time as UTCTimestamp, value: r.volume })));
      setStatus(rows.length === 0 ? 'no trades yet at this resolution' : `${rows.length} candles`);
    });
    return () => {
      stopped = true;
      c.remove();
      chart.current = null;
    };
  }, [available, chosen, resolution]);

  return (
    <section class="card chart" aria-labelledby="chart-title">
      <h2 id="chart-title">Candles</h2>
      <div class="row">
        <label for="chart-symbol">Product</label>
        <select id="chart-symbol" value={chosen} onChange={(e) => setSymbol(e.currentTarget.value)}>
          {props.symbols.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <span role="group" aria-label="Resolution">
          {RESOLUTIONS.map((r) => (
            <button key={r} type="button" aria-pressed={r === resolution} onClick={() => setResolution(r)}>
              {r}
            </button>
          ))}
        </span>
      </div>
      {available === false ? <p class="note">Market data (candles) is not available on this gateway yet.</p> : <div ref={box} class="chart-box" role="img" aria-label={`Candlestick chart of ${chosen} at ${resolution}`} />}
      <p class="muted" role="status">
        {status}
      </p>
    </section>
  );
}
