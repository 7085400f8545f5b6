// What `ims config check` and `ims systemd install` do, as functions scripts/ims.ts calls from its
// commander actions (and tests call directly). Each returns the exit code and writes through `out`.

import * as path from 'node:path';
import { checkConfig, describeConfig, formatProblem, loadConfig, type LoadConfigOptions } from './config';
import { installUnits } from './systemd-units';

export type LineSink = (line: string) => void;

const stdoutLine: LineSink = (line) => process.stdout.write(line + '\n');
const stderrLine: LineSink = (line) => process.stderr.write(line + '\n');

export interface ConfigCheckOptions extends LoadConfigOptions {
  readonly json?: boolean;
  readonly out?: LineSink;
  readonly err?: LineSink;
}

/** `ims config check [--file F] [--json]`: 0 when valid (prints the summary), 1 with every problem. */
export function configCheckCommand(o: ConfigCheckOptions): number {
  const out = o.out ?? stdoutLine;
  const err = o.err ?? stderrLine;
  const problems = checkConfig(o);
  if (o.json === true) {
    out(JSON.stringify({ ok: problems.length === 0, problems }));
    return problems.length === 0 ? 0 : 1;
  }
  if (problems.length > 0) {
    err(`ims config check: ${problems.length} problem(s)${o.file !== undefined ? ` in ${o.file} and the IMS_* environment` : ' in the IMS_* environment'}:`);
    for (const p of problems) err(`  - ${formatProblem(p)}`);
    return 1;
  }
  const config = loadConfig(o);
  out('ims config check: the configuration is valid');
  for (const line of describeConfig(config)) out(`  ${line}`);
  return 0;
}

export interface SystemdInstallOptions {
  /** Where the package is installed (default: the running package's root). */
  readonly prefix: string;
  readonly file?: string;
  readonly dir?: string;
  readonly envFile?: string;
  readonly nodePath?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: LineSink;
  readonly err?: LineSink;
}

/** `ims systemd install [--prefix P] [--config F] [--dir D]`: 0 with the files written, 1 on a bad configuration. */
export function systemdInstallCommand(o: SystemdInstallOptions): number {
  const out = o.out ?? stdoutLine;
  const err = o.err ?? stderrLine;
  const problems = checkConfig({ file: o.file, env: o.env ?? process.env });
  if (problems.length > 0) {
    err(`ims systemd install: the configuration has ${problems.length} problem(s); nothing was written:`);
    for (const p of problems) err(`  - ${formatProblem(p)}`);
    return 1;
  }
  const config = loadConfig({ file: o.file, env: o.env ?? process.env });
  const installed = installUnits({
    prefix: path.resolve(o.prefix),
    config,
    ...(o.dir !== undefined ? { dir: o.dir } : {}),
    ...(o.envFile !== undefined ? { envFile: o.envFile } : {}),
    ...(o.nodePath !== undefined ? { nodePath: o.nodePath } : {}),
  });
  for (const f of installed.written) out(`wrote ${f}`);
  for (const line of describeConfig(config)) out(`  ${line}`);
  out('next, as root:');
  for (const line of installed.next) out(`  ${line}`);
  return 0;
}
