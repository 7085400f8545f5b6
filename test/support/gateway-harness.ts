// Starts a real gateway process (node dist/processes/gateway/main.js) for a test file: its own
// /dev/shm rings, a product list, an accounts database seeded with approved demo accounts of every
// role, free ports, and the SIMULATED product manager of gateway-fake-pm.ts on the other end of the
// rings. Everything is removed when the test ends. Also: a keep-alive HTTP client and raw-socket
// helpers for requests no well-behaved client would send.

import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Accounts } from '../../processes/accounts/accounts';
import { mrzCheckDigit } from '../../processes/accounts/mrz-check-digit';
import { systemActor } from '../../processes/accounts/principal';
import type { RoleName } from '../../processes/accounts/roles';
import { registerConsumer, RingFile } from '../../bus/ring';
import { FakeProductManager, type FakeProduct } from './gateway-fake-pm';
import { shmPath, type Teardowns } from './shm';
import { spawnDist, type DistProcess } from './spawn';

export const GATEWAY_ID = 1;

/** The demo products of the tests: prices have 2 decimals (minor unit 0.01). */
export const TEST_PRODUCTS = [
  { productId: 1, symbol: 'APPL-128', brand: 'Apple', brandId: 1, tickSize: 1, lotSize: 1 },
  { productId: 2, symbol: 'SMSN-S24', brand: 'Samsung', brandId: 2, tickSize: 5, lotSize: 10 },
  { productId: 3, symbol: 'SONY-WH1000', brand: 'Sony', brandId: 3, tickSize: 100, lotSize: 1 },
] as const;

export interface TestAccount {
  readonly username: string;
  readonly password: string;
  readonly role: RoleName;
  readonly outletId: number;
  accountId: number;
}

const PASSWORD = 'kiosk-Passphrase-2024';

export const TEST_ACCOUNTS: Readonly<Record<string, TestAccount>> = {
  alice: { username: 'alice', password: PASSWORD, role: 'colleague', outletId: 11, accountId: 0 },
  bob: { username: 'bob', password: PASSWORD, role: 'colleague', outletId: 12, accountId: 0 },
  carol: { username: 'carol', password: PASSWORD, role: 'colleague', outletId: 13, accountId: 0 },
  admin: { username: 'ada.admin', password: PASSWORD, role: 'admin', outletId: 0, accountId: 0 },
  risk: { username: 'rita.risk', password: PASSWORD, role: 'risk_admin', outletId: 0, accountId: 0 },
  operator: { username: 'otto.ops', password: PASSWORD, role: 'operator', outletId: 0, accountId: 0 },
  analyst: { username: 'anna.analyst', password: PASSWORD, role: 'analyst', outletId: 0, accountId: 0 },
};

const LEGAL_NAMES: Readonly<Record<string, string>> = {
  alice: 'Alice Example',
  bob: 'Robert Sample',
  carol: 'Carol Tester',
  'ada.admin': 'Ada Lovelace',
  'rita.risk': 'Rita Hayworth',
  'otto.ops': 'Otto Lilienthal',
  'anna.analyst': 'Anna Karenina',
};

/** A passport number field with its ICAO 7-3-1 check digit, unique per n. */
export function passportNumber(n: number): string {
  const field = `GW${String(n).padStart(7, '0')}`;
  return field + String(mrzCheckDigit(field));
}

/** A complete, approvable application body. */
export function applicationBody(username: string, legalName: string, n: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    legalName,
    dateOfBirth: '1990-04-12',
    outletId: 100 + n,
    document: { type: 'passport', number: passportNumber(n), expiryDate: '2034-01-31' },
    address: { line1: '1 High Street', city: 'Leeds', postalCode: 'LS1 4AP', country: 'GB' },
    username,
    password: PASSWORD,
    ...extra,
  };
}

/** Creates the accounts database with every TEST_ACCOUNTS entry approved (cheap scrypt, tests only). */
async function seedAccounts(dataDir: string): Promise<Record<string, TestAccount>> {
  const accounts = await Accounts.open({ kind: 'sqlite', file: path.join(dataDir, 'accounts.sqlite') }, { unsafeLowCostScryptParamsForTests: { logN: 10, r: 8, p: 1 } });
  const out: Record<string, TestAccount> = {};
  let n = 1;
  try {
    for (const [key, a] of Object.entries(TEST_ACCOUNTS)) {
      const body = applicationBody(a.username, LEGAL_NAMES[a.username]!, n++, { role: a.role, outletId: a.outletId === 0 ? undefined : a.outletId });
      const r = await accounts.apply(body, systemActor('test-seed'));
      if (!r.ok || r.value.status !== 'approved' || r.value.accountId === null) throw new Error(`seeding ${a.username} failed: ${JSON.stringify(r)}`);
      out[key] = { ...a, accountId: r.value.accountId };
    }
  } finally {
    await accounts.close();
  }
  return out;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  readonly json: any;
}

export interface RequestOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Sent as is (not JSON-encoded). */
  readonly rawBody?: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly localAddress?: string;
  readonly port?: number;
}

export class GatewayUnderTest {
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly tokens = new Map<string, string>();

  constructor(
    readonly proc: DistProcess,
    readonly tradingPort: number,
    readonly publicPort: number,
    readonly pm: FakeProductManager,
    readonly accounts: Record<string, TestAccount>,
    readonly dataDir: string,
    readonly toPmRing: string,
  ) {}

  request(method: string, urlPath: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...(options.headers ?? {}) };
      let payload: Buffer | undefined;
      if (options.rawBody !== undefined) payload = Buffer.from(options.rawBody);
      else if (options.body !== undefined) {
        payload = Buffer.from(JSON.stringify(options.body));
        headers['content-type'] ??= 'application/json';
      }
      if (payload !== undefined) headers['content-length'] = String(payload.length);
      if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
      const req = http.request(
        { host: '127.0.0.1', port: options.port ?? this.tradingPort, method, path: urlPath, headers, agent: options.localAddress === undefined ? this.agent : undefined, localAddress: options.localAddress },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = undefined;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${urlPath}: no answer within 15 s`)));
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** A session token for a test account (logged in once per test file, then reused). */
  async tokenOf(who: string): Promise<string> {
    const cached = this.tokens.get(who);
    if (cached !== undefined) return cached;
    const a = this.accounts[who]!;
    const r = await this.request('POST', '/v1/sessions', { body: { username: a.username, password: a.password } });
    if (r.status !== 201) throw new Error(`login of ${who} failed: ${r.status} ${r.text}`);
    this.tokens.set(who, r.json.token as string);
    return r.json.token as string;
  }

  /** Forgets the cached token of `who` (its sessions were revoked), so the next tokenOf logs in again. */
  forgetToken(who: string): void {
    this.tokens.delete(who);
  }

  /** Sends raw bytes on a fresh connection and returns whatever comes back before it closes (or the timeout). */
  raw(bytes: string | Buffer, timeoutMs = 2_000, port = this.tradingPort): Promise<string> {
    return new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(bytes));
      let out = '';
      const t = setTimeout(() => s.destroy(), timeoutMs);
      s.on('data', (d) => {
        out += d.toString('latin1');
      });
      s.on('error', () => undefined);
      s.on('close', () => {
        clearTimeout(t);
        resolve(out);
      });
    });
  }

  /** GET /health on the trading listener, parsed. */
  async health(): Promise<any> {
    return (await this.request('GET', '/health')).json;
  }
}

export interface StartOptions {
  /** Extra gateway command-line options (they override the defaults below). */
  readonly args?: readonly string[];
}

/** Everything a gateway test needs, started; torn down with `t`. */
export async function startGateway(t: Teardowns, options: StartOptions = {}): Promise<GatewayUnderTest> {
  const toPm = shmPath(t, 'gw-to-pm');
  const fromPm = shmPath(t, 'pm-to-gw');
  const toPmRing = RingFile.create(toPm, { capacityBytes: 1 << 20, maxConsumers: 4 });
  registerConsumer(toPmRing, 'pm');
  const fromPmRing = RingFile.create(fromPm, { capacityBytes: 1 << 22, maxConsumers: 4 });
  registerConsumer(fromPmRing, `gateway-${GATEWAY_ID}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ims-gateway-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const productsFile = path.join(dir, 'products.json');
  fs.writeFileSync(productsFile, JSON.stringify({ priceDecimals: 2, products: TEST_PRODUCTS }));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const accounts = await seedAccounts(dataDir);

  const pm = new FakeProductManager(toPm, fromPm, GATEWAY_ID, TEST_PRODUCTS as readonly FakeProduct[]);
  pm.start();
  t.teardown(() => pm.stop());

  const args = [
    '--gateway-id', String(GATEWAY_ID),
    '--host', '127.0.0.1',
    '--trading-port', '0',
    '--public-port', '0',
    '--to-pm', toPm,
    '--from-pm', fromPm,
    '--products', productsFile,
    '--data-dir', dataDir,
    '--reply-timeout-ms', '1500',
    ...(options.args ?? []),
  ];
  const proc = spawnDist(t, 'processes/gateway/main.ts', args);
  const ready = await proc.waitForEvent('gateway-ready', 20_000);
  const gw = new GatewayUnderTest(proc, ready['tradingPort'] as number, ready['publicPort'] as number, pm, accounts, dataDir, toPm);
  t.teardown(() => gw.agent.destroy());
  return gw;
}
