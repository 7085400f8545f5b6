// The configuration's shape, declared once: every key the file may hold, its type and bounds, the
// environment variable that overrides it, and its default per profile. The loader, the checker,
// the systemd EnvironmentFile and the documentation below all read this table, so a key cannot be
// accepted by one and unknown to another.
//
//   {                                         env override                  demo / production default
//     "profile": "demo" | "production",       IMS_PROFILE                   demo
//     "instance": "main",                     IMS_INSTANCE                  main
//     "runDir": "/dev/shm/ims-main",          IMS_RUN_DIR                   /dev/shm/ims-<instance>
//     "dataDir": "/var/lib/ims/main",         IMS_DATA_DIR                  ./data/<instance> / /var/lib/ims/<instance>
//     "databaseUrl": null | "postgres://…",   IMS_DATABASE_URL              null (SQLite in the data dir)
//     "calendar": "always-open" | "trading",  IMS_CALENDAR                  always-open / trading
//     "demoData": true | false,               IMS_DEMO_DATA                 true / false
//     "cores": { "count": null | n,           IMS_CORE_COUNT                null (this machine)
//                "overrides": {"sequencer": "3", "edge-x": "4-5"} }  IMS_CORES ("name=3,other=4-5")
//     "gateways": { "count": 1, "host": "0.0.0.0",                    IMS_GATEWAY_COUNT, IMS_GATEWAY_HOST
//                   "tradingPorts": [8080], "publicPorts": [8081] }   IMS_GATEWAY_TRADING_PORTS / _PUBLIC_PORTS ("8080,8082")
//     "durability": { "mode": "async" | "fsync", "asyncFsyncIntervalMs": 20 }   IMS_DURABILITY, IMS_ASYNC_FSYNC_INTERVAL_MS
//     "leases": { "heartbeatMs": 10, "engineTimeoutMs": 50, "pmTimeoutMs": 50 } IMS_LEASE_HEARTBEAT_MS, IMS_ENGINE_LEASE_TIMEOUT_MS, IMS_PM_LEASE_TIMEOUT_MS
//     "rateLimits": { "ordersPerSecond", "ipRequestsPerSecond", "ipWsConnections", "credentialCallsPerMinute" }  IMS_ORDERS_PER_SECOND, …
//     "metrics": { "host": "127.0.0.1", "port": 9464 }                 IMS_METRICS_HOST, IMS_METRICS_PORT
//     "service": { "user": "ims", "group": "ims", "limitNoFile": 1048576 } (systemd units only)
//   }

import {
  DEFAULT_CREDENTIAL_CALLS_PER_IP_PER_MINUTE,
  DEFAULT_IP_REQUESTS_PER_SECOND,
  DEFAULT_IP_WS_CONNECTIONS,
  DEFAULT_ORDERS_PER_SECOND,
} from '../gateway/gateway-limits';
import { DEFAULT_LEASE_TIMEOUT_MS } from '../../bus/leader-lease';

export type ProfileName = 'demo' | 'production';

/** Bounds on what a configuration may ask for (each one a limit the processes can honour). */
export const MAX_GATEWAYS = 64;
export const MAX_CORES = 1024;
/** 10,000 colleagues need 10,000+ sockets in one gateway; below this a full day cannot run. */
export const MIN_LIMIT_NOFILE = 65_536;
export const MAX_LIMIT_NOFILE = 1 << 30;
export const DEFAULT_LIMIT_NOFILE = 1_048_576;
export const DEFAULT_METRICS_PORT = 9464;
export const DEFAULT_TRADING_PORT = 8080;
export const DEFAULT_PUBLIC_PORT = 8081;
export const DEFAULT_ASYNC_FSYNC_INTERVAL_MS = 20;
export const DEFAULT_LEASE_HEARTBEAT_MS = 10;
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

export type FieldType =
  | { readonly kind: 'string'; readonly pattern?: RegExp; readonly patternText?: string }
  | { readonly kind: 'path' }
  | { readonly kind: 'nullable-string' }
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly nullable?: boolean }
  | { readonly kind: 'bool' }
  | { readonly kind: 'enum'; readonly values: readonly string[] }
  | { readonly kind: 'int-list'; readonly min: number; readonly max: number; readonly maxLength: number }
  | { readonly kind: 'core-map' };

export interface FieldSpec {
  /** Dotted path in the file ("gateways.count"). */
  readonly path: string;
  readonly type: FieldType;
  readonly env?: string;
  readonly help: string;
  /** A value, or a function of the profile; undefined = derived later from other fields. */
  readonly default?: unknown | ((profile: ProfileName) => unknown);
}

const INSTANCE_PATTERN = /^[a-z0-9][a-z0-9_-]{0,47}$/;

export const CONFIG_FIELDS: readonly FieldSpec[] = [
  { path: 'profile', type: { kind: 'enum', values: ['demo', 'production'] }, env: 'IMS_PROFILE', help: 'demo (open around the clock, demo data, async journal) or production', default: 'demo' },
  { path: 'instance', type: { kind: 'string', pattern: INSTANCE_PATTERN, patternText: '1-48 of a-z 0-9 _ - starting with a letter or digit' }, env: 'IMS_INSTANCE', help: 'instance name', default: 'main' },
  { path: 'runDir', type: { kind: 'path' }, env: 'IMS_RUN_DIR', help: 'ring files (tmpfs; default /dev/shm/ims-<instance>)' },
  { path: 'dataDir', type: { kind: 'path' }, env: 'IMS_DATA_DIR', help: 'durable data: journal, databases (default ./data/<instance> in demo, /var/lib/ims/<instance> in production)' },
  { path: 'databaseUrl', type: { kind: 'nullable-string' }, env: 'IMS_DATABASE_URL', help: 'null for SQLite in the data dir, or a postgres:// URL', default: null },
  { path: 'calendar', type: { kind: 'enum', values: ['always-open', 'trading'] }, env: 'IMS_CALENDAR', help: 'always-open (demo) or trading (the exchange session calendar)', default: (p: ProfileName) => (p === 'demo' ? 'always-open' : 'trading') },
  { path: 'demoData', type: { kind: 'bool' }, env: 'IMS_DEMO_DATA', help: 'list demo products and fund demo accounts', default: (p: ProfileName) => p === 'demo' },
  { path: 'cores.count', type: { kind: 'int', min: 1, max: MAX_CORES, nullable: true }, env: 'IMS_CORE_COUNT', help: 'plan for this many cores (null: this machine)', default: null },
  { path: 'cores.overrides', type: { kind: 'core-map' }, env: 'IMS_CORES', help: 'per-process cores: {"sequencer": "3", "gateway-1": "4-5"}', default: {} },
  { path: 'gateways.count', type: { kind: 'int', min: 1, max: MAX_GATEWAYS }, env: 'IMS_GATEWAY_COUNT', help: 'gateway processes', default: 1 },
  { path: 'gateways.host', type: { kind: 'string' }, env: 'IMS_GATEWAY_HOST', help: 'gateway listen address', default: '0.0.0.0' },
  { path: 'gateways.tradingPorts', type: { kind: 'int-list', min: 1, max: 65535, maxLength: MAX_GATEWAYS }, env: 'IMS_GATEWAY_TRADING_PORTS', help: 'one trading port per gateway; gateways may share one (default: every gateway on 8080)' },
  { path: 'gateways.publicPorts', type: { kind: 'int-list', min: 1, max: 65535, maxLength: MAX_GATEWAYS }, env: 'IMS_GATEWAY_PUBLIC_PORTS', help: 'one public market-data port per gateway; gateways may share one (default: every gateway on 8081)' },
  { path: 'durability.mode', type: { kind: 'enum', values: ['fsync', 'async'] }, env: 'IMS_DURABILITY', help: 'fsync: nothing acknowledged before it is on disk; async: fsync follows within the interval', default: (p: ProfileName) => (p === 'demo' ? 'async' : 'fsync') },
  { path: 'durability.asyncFsyncIntervalMs', type: { kind: 'int', min: 1, max: 10_000 }, env: 'IMS_ASYNC_FSYNC_INTERVAL_MS', help: 'async mode: the window a power loss can lose', default: DEFAULT_ASYNC_FSYNC_INTERVAL_MS },
  { path: 'leases.heartbeatMs', type: { kind: 'int', min: 1, max: 60_000 }, env: 'IMS_LEASE_HEARTBEAT_MS', help: 'hot engine / product manager heartbeat period', default: DEFAULT_LEASE_HEARTBEAT_MS },
  { path: 'leases.engineTimeoutMs', type: { kind: 'int', min: 1, max: 600_000 }, env: 'IMS_ENGINE_LEASE_TIMEOUT_MS', help: 'warm engine takes over after this much silence', default: DEFAULT_LEASE_TIMEOUT_MS },
  { path: 'leases.pmTimeoutMs', type: { kind: 'int', min: 1, max: 600_000 }, env: 'IMS_PM_LEASE_TIMEOUT_MS', help: 'warm product manager takes over after this much silence', default: DEFAULT_LEASE_TIMEOUT_MS },
  { path: 'rateLimits.ordersPerSecond', type: { kind: 'int', min: 1, max: 1_000_000 }, env: 'IMS_ORDERS_PER_SECOND', help: 'orders per second per account', default: DEFAULT_ORDERS_PER_SECOND },
  { path: 'rateLimits.ipRequestsPerSecond', type: { kind: 'int', min: 1, max: 10_000_000 }, env: 'IMS_IP_REQUESTS_PER_SECOND', help: 'REST requests and WS messages per second per IP', default: DEFAULT_IP_REQUESTS_PER_SECOND },
  { path: 'rateLimits.ipWsConnections', type: { kind: 'int', min: 1, max: 1_000_000 }, env: 'IMS_IP_WS_CONNECTIONS', help: 'open WebSockets per IP', default: DEFAULT_IP_WS_CONNECTIONS },
  { path: 'rateLimits.credentialCallsPerMinute', type: { kind: 'int', min: 1, max: 1_000_000 }, env: 'IMS_CREDENTIAL_CALLS_PER_MINUTE', help: 'login/apply/API-key calls per IP per minute', default: DEFAULT_CREDENTIAL_CALLS_PER_IP_PER_MINUTE },
  { path: 'metrics.host', type: { kind: 'string' }, env: 'IMS_METRICS_HOST', help: 'operator metrics listen address', default: '127.0.0.1' },
  { path: 'metrics.port', type: { kind: 'int', min: 1, max: 65535 }, env: 'IMS_METRICS_PORT', help: 'operator metrics port (/metrics)', default: DEFAULT_METRICS_PORT },
  { path: 'service.user', type: { kind: 'string', pattern: /^[a-z_][a-z0-9_-]{0,31}$/, patternText: 'a system user name' }, help: 'systemd User= (a dedicated account)', default: 'ims' },
  { path: 'service.group', type: { kind: 'string', pattern: /^[a-z_][a-z0-9_-]{0,31}$/, patternText: 'a system group name' }, help: 'systemd Group=', default: 'ims' },
  { path: 'service.limitNoFile', type: { kind: 'int', min: MIN_LIMIT_NOFILE, max: MAX_LIMIT_NOFILE }, help: 'systemd LimitNOFILE= (10,000+ sockets per gateway)', default: DEFAULT_LIMIT_NOFILE },
];

export const FIELD_BY_PATH: ReadonlyMap<string, FieldSpec> = new Map(CONFIG_FIELDS.map((f) => [f.path, f]));

/** The sections (objects) the file may hold: the first segment of every dotted path. */
export const SECTIONS: ReadonlySet<string> = new Set(CONFIG_FIELDS.filter((f) => f.path.includes('.')).map((f) => f.path.split('.')[0]!));
