// Every process calls pinSelf() first. The supervisor pins children with taskset; when taskset is
// missing it passes IMS_PIN_CPUS instead and the process pins itself through the addon.

import { native } from '../native/addon';

export function pinSelf(env: NodeJS.ProcessEnv = process.env): number[] {
  const wanted = env['IMS_PIN_CPUS'];
  if (wanted !== undefined && wanted !== '') {
    const cpus = wanted.split(',').map((c) => Number(c));
    if (cpus.some((c) => !Number.isInteger(c) || c < 0)) throw new TypeError(`IMS_PIN_CPUS='${wanted}' must be a comma-separated list of CPU numbers`);
    native.pinToCpus(cpus);
  }
  return native.currentCpus();
}
