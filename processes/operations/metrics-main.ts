// The metrics process (ims-metrics.service; the supervisor may instead call startMetricsServer):
//
//   node dist/processes/operations/metrics-main.js [--config FILE] [--run-dir DIR] [--host H] [--port N]
//
// Defaults come from the configuration (IMS_* environment / file): run dir, metrics host and port.

import { Command, InvalidArgumentError } from 'commander';
import { ConfigError, loadConfig } from './config';
import { startMetricsServer } from './metrics';

function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port in [0, 65535], got '${v}'`);
  return n;
}

async function main(): Promise<void> {
  const o = new Command('ims-metrics')
    .description('serve Prometheus /metrics for an IMS instance, read from its run directory')
    .option('--config <file>', 'IMS configuration file')
    .option('--run-dir <dir>', 'the instance run directory (default from the configuration)')
    .option('--host <addr>', 'listen address (default metrics.host)')
    .option('--port <n>', 'listen port (default metrics.port)', port)
    .parse(process.argv)
    .opts<{ config?: string; runDir?: string; host?: string; port?: number }>();
  let config;
  try {
    // The data dir is not this process's business: do not fail on it.
    config = loadConfig({ file: o.config, env: process.env, checkFilesystem: false });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`ims-metrics: ${e.message}\n`);
      process.exit(3);
    }
    throw e;
  }
  const server = await startMetricsServer({ runDir: o.runDir ?? config.runDir, port: o.port ?? config.metrics.port, host: o.host ?? config.metrics.host });
  process.stdout.write(JSON.stringify({ process: 'metrics', event: 'metrics-ready', host: server.host, port: server.port, runDir: o.runDir ?? config.runDir }) + '\n');
  const stop = (): void => void server.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((e: Error) => {
  process.stderr.write(`ims-metrics: ${e.message}\n`);
  process.exit(1);
});
