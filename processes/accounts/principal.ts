// Who is acting: an authenticated account (from a session or an API key) or the system itself
// (automated KYC, the demo seeding, an operator's command line). Every audit entry names its actor.

import type { AccountRole } from '../../bus/enums';
import type { RoleName } from './roles';

export interface Principal {
  readonly kind: 'account';
  readonly accountId: number;
  readonly username: string;
  readonly role: RoleName;
  /** The role's code on the bus (AccountOpened.role). */
  readonly roleCode: AccountRole;
  /** The outlet a colleague trades for; 0 for staff roles. */
  readonly outletId: number;
  readonly via: 'session' | 'api_key';
  /** The session or API key that authenticated this principal. */
  readonly credentialId: number;
}

export interface SystemActor {
  readonly kind: 'system';
  /** What acted: 'kyc' (automated decisions), 'demo-seed', 'operator-cli', ... */
  readonly name: string;
}

export type Actor = Principal | SystemActor;

export function systemActor(name: string): SystemActor {
  if (!/^[a-z][a-z0-9-]{0,31}$/.test(name)) throw new TypeError(`system actor name must be lowercase with hyphens, got '${name}'`);
  return Object.freeze({ kind: 'system', name });
}

export const KYC_SYSTEM_ACTOR = systemActor('kyc');

/** How an actor is written in the audit trail: `system:kyc` or `account:17:jdoe`. */
export function actorLabel(actor: Actor): string {
  return actor.kind === 'system' ? `system:${actor.name}` : `account:${actor.accountId}:${actor.username}`;
}

export function actorAccountId(actor: Actor): number | null {
  return actor.kind === 'account' ? actor.accountId : null;
}

/** True for the system, or for an account whose role passes `allowed`. */
export function actorMay(actor: Actor, allowed: (role: RoleName) => boolean): boolean {
  return actor.kind === 'system' || allowed(actor.role);
}
