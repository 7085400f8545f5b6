// Product listing (admin): POST /v1/admin/products with what the ListProduct command carries —
// product id, symbol, brand (and a brand id for a brand not listed yet), tick size, lot size and
// reference price (which the price collar starts from). The gateway answers 202 "submitted"; the
// product manager lists it when the command is sequenced. Errors go next to their fields.

import { useState } from 'preact/hooks';
import { api } from './api-client';
import { formErrorsOf, NO_ERRORS, Outcome, type FormErrors } from './dashboard-forms';
import { Field, FormError } from './field-errors';

const FIELDS: ReadonlyArray<{ readonly key: string; readonly label: string; readonly numeric: boolean; readonly hint: string }> = [
  { key: 'productId', label: 'Product id', numeric: true, hint: 'a new id' },
  { key: 'symbol', label: 'Symbol', numeric: false, hint: 'A-Z 0-9 . -, up to 16' },
  { key: 'brand', label: 'Brand', numeric: false, hint: 'as on other products of the brand' },
  { key: 'brandId', label: 'Brand id (new brands only)', numeric: true, hint: 'leave empty for a listed brand' },
  { key: 'tickSize', label: 'Tick size', numeric: false, hint: 'e.g. 0.01' },
  { key: 'lotSize', label: 'Lot size (units)', numeric: true, hint: 'e.g. 1' },
  { key: 'referencePrice', label: 'Reference price', numeric: false, hint: 'a multiple of the tick' },
];

const CODE_FIELDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/already_listed/, 'symbol'],
  [/symbol/, 'symbol'],
  [/tick_size|tickSize/, 'tickSize'],
  [/reference_price|referencePrice|price_not_on_tick/, 'referencePrice'],
  [/lot_size|lotSize/, 'lotSize'],
  [/unknown_brand|brandId/, 'brandId'],
  [/brand/, 'brand'],
  [/productId|product_id/, 'productId'],
];

export function ProductListingForm(props: { onListed?: () => void }): preact.JSX.Element {
  const [values, setValues] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS);
  const [done, setDone] = useState('');

  const submit = async (ev: Event): Promise<void> => {
    ev.preventDefault();
    const body: Record<string, unknown> = {};
    for (const f of FIELDS) {
      const v = (values[f.key] ?? '').trim();
      if (v === '' && f.key === 'brandId') continue;
      body[f.key] = f.numeric && /^[0-9]+$/.test(v) ? Number(v) : v;
    }
    try {
      const r = await api<{ command: string; sourceSeq: number }>('POST', '/v1/admin/products', body);
      setErrors(NO_ERRORS);
      setDone(`${String(body['symbol']).toUpperCase()}: listing submitted (sequence ${r.sourceSeq}).`);
      props.onListed?.();
    } catch (e) {
      setDone('');
      setErrors(formErrorsOf(e, CODE_FIELDS, FIELDS.map((f) => f.key)));
    }
  };

  return (
    <form class="card" onSubmit={submit} aria-labelledby="listing-title" novalidate>
      <h2 id="listing-title">List a product</h2>
      <div class="grid2">
        {FIELDS.map((f) => {
          const id = `listing-${f.key}`;
          return (
            <Field key={f.key} id={id} label={f.label} error={errors.fields[f.key]}>
              {(d, inv) => <input id={id} placeholder={f.hint} inputMode={f.numeric ? 'numeric' : undefined} value={values[f.key] ?? ''} aria-describedby={d} aria-invalid={inv} onInput={(e) => setValues({ ...values, [f.key]: e.currentTarget.value })} />}
            </Field>
          );
        })}
      </div>
      <FormError message={errors.general} />
      <button type="submit" class="primary">
        List product
      </button>
      <Outcome text={done} error={false} />
    </form>
  );
}
