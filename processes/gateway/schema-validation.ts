// Compiles each request schema once (TypeBox's TypeCompiler generates a checking function) and
// turns the first meaningful violation into an API error with a precise code:
//
//   unexpected field            -> 400 unknown_field     ("field 'status' is not accepted ...")
//   missing field               -> 400 missing_field
//   number outside its range    -> 400 <field>_out_of_range   (quantity_out_of_range)
//   wrong type / pattern / enum -> 400 invalid_<field>        (invalid_price, invalid_side)
//   not an object at all        -> 400 invalid_body
//
// Every violation found (up to a bound) is listed in `fields` so a form can mark all of them.

import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType, type ValueError } from '@sinclair/typebox/errors';
import { ApiFailure, failure, type FieldProblem } from './api-failure';

/** Violations examined per value: enough for every field of our largest body, bounded for junk. */
const MAX_ERRORS_EXAMINED = 32;


export class Validator<T extends TSchema> {
  private readonly check: TypeCheck<T>;
  /** Accepted property names of an object schema, for the unknown_field detail. */
  private readonly accepted: string;

  constructor(readonly schema: T, private readonly what: string) {
    this.check = TypeCompiler.Compile(schema);
    const props = (schema as unknown as TObject).properties;
    this.accepted = props === undefined ? '' : Object.keys(props).join(', ');
  }

  /** The value, typed, when it conforms; otherwise a 400 naming the first problem. */
  validate(value: unknown): Static<T> | ApiFailure {
    if (this.check.Check(value)) return value as Static<T>;
    return this.explain(value);
  }

  private explain(value: unknown): ApiFailure {
    const problems: FieldProblem[] = [];
    let best: FieldProblem | undefined;
    let bestRank = Number.MAX_SAFE_INTEGER;
    let examined = 0;
    for (const e of this.check.Errors(value)) {
      if (++examined > MAX_ERRORS_EXAMINED) break;
      const p = this.describe(e);
      if (problems.some((q) => q.field === p.field)) continue;
      problems.push(p);
      const rank = rankOf(e.type);
      if (rank < bestRank) {
        best = p;
        bestRank = rank;
      }
    }
    if (best === undefined) best = { field: '', code: 'invalid_body', detail: `the ${this.what} does not match its schema (GET /openapi.json)` };
    return new ApiFailure(400, best.code, best.detail, undefined, problems);
  }

  private describe(e: ValueError): FieldProblem {
    const field = e.path.split('/').filter((s) => s !== '').map(unescapePointer).join('.');
    const leaf = field.includes('.') ? field.slice(field.lastIndexOf('.') + 1) : field;
    const name = codeSafe(leaf);
    const s = e.schema as Record<string, unknown>;
    switch (e.type) {
      case ValueErrorType.ObjectAdditionalProperties:
        return { field, code: 'unknown_field', detail: `field '${truncate(field)}' is not accepted in the ${this.what}${this.accepted && !field.includes('.') ? ` (fields: ${this.accepted})` : ''}; remove it` };
      case ValueErrorType.ObjectRequiredProperty:
        return { field, code: 'missing_field', detail: `field '${field}' is required in the ${this.what}` };
      case ValueErrorType.ObjectMinProperties:
        return { field, code: 'no_fields', detail: `send at least one of: ${this.accepted}` };
      case ValueErrorType.Object:
        if (field === '') return { field, code: 'invalid_body', detail: `the ${this.what} must be a JSON object` };
        return { field, code: `invalid_${name}`, detail: `${field} must be a JSON object` };
      case ValueErrorType.IntegerMaximum:
      case ValueErrorType.IntegerMinimum:
      case ValueErrorType.IntegerExclusiveMaximum:
      case ValueErrorType.IntegerExclusiveMinimum:
      case ValueErrorType.NumberMaximum:
      case ValueErrorType.NumberMinimum:
        return { field, code: `${name}_out_of_range`, detail: `${field} must be an integer in [${s['minimum'] ?? '-inf'}, ${s['maximum'] ?? 'inf'}], got ${truncate(String(e.value))}` };
      case ValueErrorType.Integer:
      case ValueErrorType.Number:
        return { field, code: `invalid_${name}`, detail: `${field} must be an integer${rangeText(s)}` };
      case ValueErrorType.Union:
      case ValueErrorType.Literal: {
        const options = literalOptions(s);
        return { field, code: `invalid_${name}`, detail: options ? `${field} must be one of ${options}` : `${field} has an unaccepted value` };
      }
      case ValueErrorType.String:
      case ValueErrorType.StringPattern:
      case ValueErrorType.StringMinLength:
      case ValueErrorType.StringMaxLength:
        return { field, code: `invalid_${name}`, detail: `${field} must be a string${lengthText(s)}${s['description'] ? ` (${s['description']})` : ''}` };
      case ValueErrorType.Boolean:
        return { field, code: `invalid_${name}`, detail: `${field} must be true or false` };
      default:
        return { field, code: field === '' ? 'invalid_body' : `invalid_${name}`, detail: `${field || this.what}: ${e.message}` };
    }
  }
}

/** Lower ranks are reported first: an unknown field explains the most (mass assignment). */
function rankOf(type: ValueErrorType): number {
  switch (type) {
    case ValueErrorType.Object:
      return 0;
    case ValueErrorType.ObjectAdditionalProperties:
      return 1;
    case ValueErrorType.ObjectRequiredProperty:
      return 2;
    case ValueErrorType.ObjectMinProperties:
      return 3;
    default:
      return 4;
  }
}

function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Field names come from the client for unknown fields: keep codes to [a-z0-9_]. */
function codeSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9]/g, '_').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase().slice(0, 40);
  return s === '' ? 'value' : s;
}

function truncate(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text;
}

function rangeText(s: Record<string, unknown>): string {
  return s['minimum'] !== undefined && s['maximum'] !== undefined ? ` in [${s['minimum']}, ${s['maximum']}]` : '';
}

function lengthText(s: Record<string, unknown>): string {
  const min = s['minLength'];
  const max = s['maxLength'];
  if (min !== undefined && max !== undefined) return ` of ${min}..${max} characters`;
  if (max !== undefined) return ` of at most ${max} characters`;
  return '';
}

function literalOptions(s: Record<string, unknown>): string | undefined {
  if (s['const'] !== undefined) return String(s['const']);
  const anyOf = s['anyOf'];
  if (!Array.isArray(anyOf)) return undefined;
  const values = anyOf.map((x: Record<string, unknown>) => x['const']).filter((v) => v !== undefined);
  return values.length === anyOf.length ? values.join(', ') : undefined;
}

/** Parses a request body as JSON text: the body bytes must be UTF-8 and the text one JSON value. */
export function parseJsonBody(bytes: Uint8Array): unknown | ApiFailure {
  if (bytes.length === 0) return failure(400, 'invalid_json', 'the request body is empty; send a JSON object');
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return failure(400, 'invalid_json', 'the request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return failure(400, 'invalid_json', `the request body is not valid JSON: ${(e as Error).message.slice(0, 120)}`);
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
