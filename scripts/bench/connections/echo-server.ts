// The peer of bench:connections: a bare uWebSockets.js WebSocket server in its own process (as
// the gateway is), speaking just enough of /v1/stream for the same client workers to drive it: it
// accepts the "ims.v1" subprotocol (ignoring the token), parses each JSON message and answers a
// result of the gateway's shape carrying the requestId (a place becomes an "added" order with a
// fresh id). No authentication, validation, risk, rings or matching: what holding the same
// connections at the same message rate costs with nothing else to do.
//
//   node dist/scripts/bench/connections/echo-server.js     (prints "port N", SIGTERM stops it)
import * as uWS from 'uWebSockets.js';
import { DEFAULT_WS_IDLE_TIMEOUT_S, DEFAULT_WS_MAX_BACKPRESSURE_BYTES, WS_MAX_PAYLOAD_BYTES } from '../../../processes/gateway/gateway-limits';

const PROTOCOL = 'ims.v1';
const decoder = new TextDecoder();
let nextOrderId = 1;

const app = uWS.App();
app.ws<Record<string, never>>('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: WS_MAX_PAYLOAD_BYTES,
  maxBackpressure: DEFAULT_WS_MAX_BACKPRESSURE_BYTES,
  closeOnBackpressureLimit: 1,
  idleTimeout: DEFAULT_WS_IDLE_TIMEOUT_S,
  sendPingsAutomatically: true,
  upgrade: (res, req, context) => {
    const protocols = req.getHeader('sec-websocket-protocol');
    res.upgrade({}, req.getHeader('sec-websocket-key'), protocols.includes(PROTOCOL) ? PROTOCOL : '', req.getHeader('sec-websocket-extensions'), context);
  },
  message: (ws, message) => {
    const m = JSON.parse(decoder.decode(message)) as { type: string; requestId: string; id?: string; order?: Record<string, unknown> };
    const order = m.type === 'place'
      ? { id: String(nextOrderId++), ...m.order, timeInForce: 'GTC', creationTime: Date.now(), filledQuantity: 0, remainingQuantity: m.order?.['quantity'], status: 'added' }
      : { id: m.id, status: 'removed' };
    ws.send(JSON.stringify({ type: 'result', requestId: m.requestId, status: 200, order }), false, false);
  },
});
app.listen('127.0.0.1', 0, (token) => {
  if (!token) {
    process.stderr.write('echo server: could not listen\n');
    process.exit(1);
  }
  process.stdout.write(`port ${uWS.us_socket_local_port(token)}\n`);
});
process.on('SIGTERM', () => process.exit(0));
