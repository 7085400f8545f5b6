// Where the product-manager pair finds its files, from the run directory (one per exchange
// instance, on /dev/shm). The supervisor creates every ring with these names and registers the
// consumer slots before it starts any process; tests and drills do the same (drill-bus.ts).
//
//   gateway n ──gw<n>-to-pm.ring──► (slot `pm`: the HOT product manager only)
//   gateway n ◄──pm-to-gw<n>.ring── (producer: the HOT product manager; slot `gateway`)
//   pm-a ──pm-a-to-sequencer.ring──► sequencer (slot `sequencer`)      journal.ring ──► pm-a, pm-b
//   pm-b ──pm-b-to-sequencer.ring──► sequencer (slot `sequencer`)      (JournalReader names pm-a, pm-b)
//   pm.lease        the pair's leader lease (bus/leader-lease.ts): epoch, leader pid, heartbeat
//   pm-a.status     each instance's status (pm-status.ts), readable without talking to it

import * as path from 'node:path';
import { SourceId } from '../../bus/source-ids';

export type PmInstance = 'a' | 'b';
export const PM_INSTANCES: readonly PmInstance[] = ['a', 'b'];

/** Consumer slot of the hot product manager in every gateway→PM ring. */
export const GATEWAY_RING_PM_SLOT = 'pm';
/** Consumer slot of the gateway in its PM→gateway ring. */
export const REPLY_RING_GATEWAY_SLOT = 'gateway';
/** Consumer slot of the sequencer in every sequencer input ring. */
export const SEQUENCER_SLOT = 'sequencer';

/** Gateways one product manager serves (gateway ids 1..this); bounds the ring arrays. */
export const MAX_GATEWAYS = 64;

export function isPmInstance(value: string): value is PmInstance {
  return value === 'a' || value === 'b';
}

export function otherInstance(instance: PmInstance): PmInstance {
  return instance === 'a' ? 'b' : 'a';
}

/** InputHeader.sourceId an instance writes its commands with (bus/source-ids.ts). */
export function pmSourceId(instance: PmInstance): number {
  return instance === 'a' ? SourceId.PRODUCT_MANAGER_A : SourceId.PRODUCT_MANAGER_B;
}

/** The JournalReader name (journal ring slot and status-file consumer row) of an instance. */
export function pmJournalReaderName(instance: PmInstance): string {
  return `pm-${instance}`;
}

export function pmToSequencerRing(runDir: string, instance: PmInstance): string {
  return path.join(runDir, `pm-${instance}-to-sequencer.ring`);
}

export function gatewayToPmRing(runDir: string, gatewayId: number): string {
  return path.join(runDir, `gw${gatewayId}-to-pm.ring`);
}

export function pmToGatewayRing(runDir: string, gatewayId: number): string {
  return path.join(runDir, `pm-to-gw${gatewayId}.ring`);
}

export function pmLeasePath(runDir: string): string {
  return path.join(runDir, 'pm.lease');
}

export function pmStatusPath(runDir: string, instance: PmInstance): string {
  return path.join(runDir, `pm-${instance}.status`);
}

export function defaultJournalRing(runDir: string): string {
  return path.join(runDir, 'journal.ring');
}
