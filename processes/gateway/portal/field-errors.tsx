// Puts a server error next to the form field it is about. Schema failures name their fields
// (`fields[].field`, a dotted path such as `document.expiryDate`); normalization and product-manager
// rejections carry only a code, so the code's prefix says the field (price_not_on_tick -> price).

import type { ComponentChildren } from 'preact';
import { ApiError } from './api-client';

export type FieldErrors = Readonly<Record<string, string>>;

/** Error code prefixes (and whole codes) that belong to one order-ticket field. */
const CODE_FIELD: ReadonlyArray<readonly [RegExp, string]> = [
  [/^price_|^invalid_price$|^post_only|^risk_price/, 'price'],
  [/^quantity_|^invalid_quantity$|^risk_|^insufficient_|^fok_/, 'quantity'],
  [/^unknown_symbol$|^product_halted$|^halted$/, 'symbol'],
  [/^time_in_force|^invalid_time_in_force$/, 'timeInForce'],
];

/** Splits an error into per-field messages and the message for the form as a whole ('' if none). */
export function fieldErrorsOf(e: unknown, knownFields: readonly string[]): { fields: FieldErrors; general: string } {
  if (!(e instanceof ApiError)) return { fields: {}, general: e instanceof Error ? e.message : String(e) };
  const fields: Record<string, string> = {};
  for (const p of e.fields) {
    const target = knownFields.includes(p.field) ? p.field : knownFields.find((k) => p.field.startsWith(`${k}.`)) ?? '';
    if (target !== '' && fields[target] === undefined) fields[target] = p.detail;
  }
  if (Object.keys(fields).length === 0) {
    for (const [re, field] of CODE_FIELD) {
      if (re.test(e.code) && knownFields.includes(field)) {
        fields[field] = e.detail;
        break;
      }
    }
  }
  const placed = Object.keys(fields).length > 0;
  return { fields, general: placed ? '' : `${e.detail} (${e.code})` };
}

/** The error line under one field; `id` is what the input's aria-describedby points at. */
export function FieldError(props: { id: string; message: string | undefined }): preact.JSX.Element | null {
  if (props.message === undefined || props.message === '') return null;
  return (
    <p class="field-error" id={props.id} role="alert">
      {props.message}
    </p>
  );
}

/** The error about the form as a whole (what no field took), announced; nothing when ''. */
export function FormError(props: { message: string }): preact.JSX.Element | null {
  if (props.message === '') return null;
  return (
    <p class="form-error" role="alert">
      {props.message}
    </p>
  );
}

/** A labelled field with its error beneath it, wired for screen readers. */
export function Field(props: { id: string; label: string; error: string | undefined; children: (describedBy: string | undefined, invalid: boolean) => ComponentChildren }): preact.JSX.Element {
  const errId = `${props.id}-error`;
  const invalid = props.error !== undefined && props.error !== '';
  return (
    <div class={invalid ? 'field invalid' : 'field'}>
      <label for={props.id}>{props.label}</label>
      {props.children(invalid ? errId : undefined, invalid)}
      <FieldError id={errId} message={props.error} />
    </div>
  );
}
