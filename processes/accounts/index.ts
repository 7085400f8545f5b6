// The accounts module's public API: what the gateway processes import.

export { Accounts, type AccountsOptions, type AccountSummary } from './accounts';
export { openAccountStore, accountStoreOptionsFromEnv, isPostgresUrl, DEFAULT_POSTGRES_SCHEMA, type OpenAccountStoreOptions } from './account-store';
export type { AccountStore, SqlExecutor, SqlDialect } from './sql-store';
export { SqliteAccountStore } from './sqlite-store';
export { PostgresAccountStore, probePostgres } from './postgres-store';
export { MIGRATIONS, migrate } from './migrations';
export { httpStatusOf, type AccountsError, type AccountsErrorCode, type AccountsResult, type FieldError } from './errors';
export type { ApplicationInput } from './application-validation';
export type { ApplicationOutcome, PendingReview, AuditEntry, Page } from './onboarding';
export type { LoginSuccess, ApiKeyCreated, ApiKeyInfo } from './credentials';
export type { SuspensionOutcome } from './account-suspension';
export type { RoleChangeOutcome, RoleChangeRequest } from './account-role-change';
export { outboxMessageOf, type OutboxEvent, type OutboxEventKind, type OutboxMessage, type OutboxSink, type ForwardResult } from './account-outbox';
export { systemActor, type Actor, type Principal, type SystemActor } from './principal';
export { ROLE_CODE, ROLE_NAMES, roleNameOf, type RoleName } from './roles';
export type { KycReason, KycReasonCode, KycStatus } from './kyc-checks';
export { SanctionsList, defaultSanctionsFile } from './sanctions-list';
export { OWASP_SCRYPT_PARAMS, type ScryptParams } from './password-hashing';
export { systemClock, ManualClock, type Clock } from './clock';
export { seedDemoAccounts, formatDemoCredentials, DEMO_PEOPLE, type DemoCredential } from './demo-accounts';
export * as accountLimits from './account-limits';
