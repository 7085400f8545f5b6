// What the dashboard's staff forms share: server errors put next to their fields, and the
// outcome line under a form. Schema failures name their fields (`fields[].field`); the gateway's
// own checks answer a code only, so each form maps code patterns to its fields.

import { ApiError } from './api-client';
import { fieldErrorsOf } from './field-errors';

export interface FormErrors {
  readonly fields: Readonly<Record<string, string>>;
  readonly general: string;
}

export const NO_ERRORS: FormErrors = { fields: {}, general: '' };

/** Per-field messages: the server's field list first, else the first code pattern that matches. */
export function formErrorsOf(e: unknown, codeFields: ReadonlyArray<readonly [RegExp, string]>, knownFields: readonly string[]): FormErrors {
  const byList = fieldErrorsOf(e, knownFields);
  if (Object.keys(byList.fields).length > 0 || !(e instanceof ApiError)) return byList;
  for (const [re, field] of codeFields) {
    if (re.test(e.code)) return { fields: { [field]: `${e.detail} (${e.code})` }, general: '' };
  }
  return byList;
}

export function Outcome(props: { text: string; error: boolean; id?: string }): preact.JSX.Element {
  return (
    <p id={props.id} class={props.error ? 'form-error' : 'answer'} role={props.error ? 'alert' : 'status'} aria-live="polite">
      {props.text}
    </p>
  );
}
