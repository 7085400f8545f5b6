// Account roles: their names on the API and their codes on the bus (AccountOpened.role), and what
// each may do in this module. The numeric codes come from bus/enums.ts, the single source.

import { AccountRole } from '../../bus/enums';

export type RoleName = 'colleague' | 'risk_admin' | 'admin' | 'analyst' | 'operator';

export const ROLE_CODE: Readonly<Record<RoleName, AccountRole>> = Object.freeze({
  colleague: AccountRole.COLLEAGUE,
  risk_admin: AccountRole.RISK_ADMIN,
  admin: AccountRole.ADMIN,
  analyst: AccountRole.ANALYST,
  operator: AccountRole.OPERATOR,
});

export const ROLE_NAMES: readonly RoleName[] = Object.freeze(Object.keys(ROLE_CODE) as RoleName[]);

const NAME_BY_CODE = new Map<number, RoleName>(ROLE_NAMES.map((n) => [ROLE_CODE[n], n]));

export function roleNameOf(code: number): RoleName {
  const name = NAME_BY_CODE.get(code);
  if (name === undefined) throw new RangeError(`unknown account role code ${code}`);
  return name;
}

export function isRoleName(value: unknown): value is RoleName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROLE_CODE, value);
}

/** Only a colleague trades, and only for the one outlet it belongs to; staff have outlet 0. */
export function roleNeedsOutlet(role: RoleName): boolean {
  return role === 'colleague';
}

/** Who may work the KYC review queue and read the audit trail. */
export function mayReviewApplications(role: RoleName): boolean {
  return role === 'admin';
}

/** Who may create an account of another role than colleague (staff accounts). */
export function mayCreateStaffAccounts(role: RoleName): boolean {
  return role === 'admin';
}

/** Who may change an account's role (it decides what the account may see and do everywhere). */
export function mayChangeRoles(role: RoleName): boolean {
  return role === 'admin';
}

/** Who may suspend and reinstate accounts (risk admins act on misuse, admins on everything). */
export function maySuspendAccounts(role: RoleName): boolean {
  return role === 'admin' || role === 'risk_admin';
}
