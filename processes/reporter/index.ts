// The reporter's public surface: what the CLI (`ims reconcile`, `ims report eod`) and the gateway's
// data service (GET /v1/execution, order history) call. See README.md beside this file.

export { reconcile, formatReconcileResult, type ReconcileOptions, type ReconcileResult, type ReconcileDifference } from './reconcile';
export { reportEod, EodReportError, VWAP_DECIMALS, type EodReportOptions, type EodReport, type EodFile, type ProductDaySummary } from './eod-report';
export {
  executionsFor,
  ordersFor,
  scopeFor,
  ReportQueryError,
  type Viewer,
  type QueryScope,
  type ExecutionQuery,
  type OrderQuery,
  type ExecutionView,
  type OrderView,
  type Page,
  type ReportQueryErrorCode,
} from './report-queries';
export { openReportStore, reportStoreOptionsFromEnv, WriteResult, ReportProgressError, type ReportStore, type ReportReader, type ReportStoreOptions, type ReporterProgress } from './report-store';
export { ReportModel, ApplyResult, type ReportBatch } from './report-model';
export { parseReportDate, formatTradingDay } from './trading-day';
export { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, BATCH_MAX_ENTRIES, BATCH_MAX_MS, SQLITE_FILE_NAME, DEFAULT_POSTGRES_SCHEMA } from './reporter-limits';
