// Checks real answers against the gateway's own OpenAPI document (GET /openapi.json) and tracks
// which documented operations a test exercised successfully, so a route added without a contract
// test makes that test fail.
//
// The document's schemas are plain JSON Schema (TypeBox output copied to JSON, named schemas as
// "#/components/schemas/<title>" references). The validator below implements the keywords the
// document uses and THROWS on any keyword it does not know: a schema it cannot read must never
// pass everything silently. It is deliberately small (no formats, no $id scopes, local $refs only).

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = Record<string, unknown>;

/** Keywords that only describe (no effect on validity). */
const ANNOTATIONS = new Set(['title', 'description', 'default', 'examples', 'example', 'deprecated', 'readOnly', 'writeOnly']);
const ASSERTIONS = new Set([
  '$ref', 'type', 'const', 'enum', 'anyOf', 'allOf', 'oneOf', 'not',
  'properties', 'required', 'additionalProperties', 'minProperties', 'maxProperties',
  'items', 'additionalItems', 'minItems', 'maxItems',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern',
]);

/** Bound on $ref chains and nesting, so a cyclic document fails instead of recursing forever. */
const MAX_DEPTH = 64;

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(want: string, v: unknown): boolean {
  const got = typeOf(v);
  return got === want || (want === 'number' && got === 'integer');
}

function equal(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class SchemaValidator {
  private readonly patterns = new Map<string, RegExp>();

  constructor(private readonly doc: Record<string, any>) {}

  /** Problems of `value` against `schema` ([] when it conforms), each with its JSON path. */
  validate(schema: unknown, value: unknown, path = '$'): string[] {
    const out: string[] = [];
    this.check(schema as Schema, value, path, out, 0);
    return out;
  }

  private resolve(ref: string): Schema {
    const m = /^#\/components\/schemas\/([A-Za-z0-9_.-]+)$/.exec(ref);
    if (m === null) throw new Error(`openapi-contract: unsupported $ref ${ref}`);
    const s = this.doc['components']?.['schemas']?.[m[1]!];
    if (s === undefined) throw new Error(`openapi-contract: $ref ${ref} names no component`);
    return s as Schema;
  }

  private regex(source: string): RegExp {
    let r = this.patterns.get(source);
    if (r === undefined) {
      r = new RegExp(source, 'u');
      this.patterns.set(source, r);
    }
    return r;
  }

  private check(s: Schema, v: unknown, path: string, out: string[], depth: number): void {
    if (depth > MAX_DEPTH) throw new Error(`openapi-contract: schema nesting beyond ${MAX_DEPTH} at ${path}`);
    if (typeof s !== 'object' || s === null) throw new Error(`openapi-contract: a schema at ${path} is not an object`);
    for (const k of Object.keys(s)) {
      if (!ASSERTIONS.has(k) && !ANNOTATIONS.has(k)) throw new Error(`openapi-contract: unsupported schema keyword '${k}' at ${path}`);
    }
    if (typeof s['$ref'] === 'string') {
      this.check(this.resolve(s['$ref']), v, path, out, depth + 1);
    }
    if (s['type'] !== undefined) {
      const types = Array.isArray(s['type']) ? (s['type'] as string[]) : [s['type'] as string];
      if (!types.some((t) => typeMatches(t, v))) {
        out.push(`${path}: expected ${types.join('|')}, got ${typeOf(v)} ${JSON.stringify(v)?.slice(0, 60)}`);
        return;
      }
    }
    if ('const' in s && !equal(s['const'], v)) out.push(`${path}: expected the constant ${JSON.stringify(s['const'])}, got ${JSON.stringify(v)?.slice(0, 60)}`);
    if (Array.isArray(s['enum']) && !(s['enum'] as unknown[]).some((e) => equal(e, v))) out.push(`${path}: ${JSON.stringify(v)?.slice(0, 60)} is not one of ${JSON.stringify(s['enum'])}`);
    if (Array.isArray(s['allOf'])) for (const sub of s['allOf'] as Schema[]) this.check(sub, v, path, out, depth + 1);
    if (Array.isArray(s['anyOf'])) {
      const branches = (s['anyOf'] as Schema[]).map((sub) => this.validate(sub, v, path));
      if (!branches.some((b) => b.length === 0)) out.push(`${path}: matches none of anyOf (${branches.map((b) => b[0]).join(' / ').slice(0, 300)})`);
    }
    if (Array.isArray(s['oneOf'])) {
      const ok = (s['oneOf'] as Schema[]).filter((sub) => this.validate(sub, v, path).length === 0).length;
      if (ok !== 1) out.push(`${path}: matches ${ok} of oneOf, not exactly one`);
    }
    if (s['not'] !== undefined && this.validate(s['not'], v, path).length === 0) out.push(`${path}: matches a 'not' schema`);

    if (typeOf(v) === 'object') this.checkObject(s, v as Record<string, unknown>, path, out, depth);
    if (Array.isArray(v)) this.checkArray(s, v, path, out, depth);
    if (typeof v === 'number') {
      if (typeof s['minimum'] === 'number' && v < s['minimum']) out.push(`${path}: ${v} < minimum ${s['minimum']}`);
      if (typeof s['maximum'] === 'number' && v > s['maximum']) out.push(`${path}: ${v} > maximum ${s['maximum']}`);
      if (typeof s['exclusiveMinimum'] === 'number' && v <= s['exclusiveMinimum']) out.push(`${path}: ${v} <= exclusiveMinimum ${s['exclusiveMinimum']}`);
      if (typeof s['exclusiveMaximum'] === 'number' && v >= s['exclusiveMaximum']) out.push(`${path}: ${v} >= exclusiveMaximum ${s['exclusiveMaximum']}`);
      if (typeof s['multipleOf'] === 'number' && !Number.isInteger(v / s['multipleOf'])) out.push(`${path}: ${v} is not a multiple of ${s['multipleOf']}`);
    }
    if (typeof v === 'string') {
      const length = [...v].length;
      if (typeof s['minLength'] === 'number' && length < s['minLength']) out.push(`${path}: shorter than ${s['minLength']}`);
      if (typeof s['maxLength'] === 'number' && length > s['maxLength']) out.push(`${path}: longer than ${s['maxLength']}`);
      if (typeof s['pattern'] === 'string' && !this.regex(s['pattern']).test(v)) out.push(`${path}: ${JSON.stringify(v).slice(0, 60)} does not match /${s['pattern']}/`);
    }
  }

  private checkObject(s: Schema, v: Record<string, unknown>, path: string, out: string[], depth: number): void {
    const props = (s['properties'] ?? {}) as Record<string, Schema>;
    for (const name of (s['required'] ?? []) as string[]) if (!(name in v)) out.push(`${path}: required property '${name}' is missing`);
    for (const [name, value] of Object.entries(v)) {
      const sub = props[name];
      if (sub !== undefined) this.check(sub, value, `${path}.${name}`, out, depth + 1);
      else if (s['additionalProperties'] === false) out.push(`${path}: property '${name}' is not in the schema (additionalProperties: false)`);
      else if (typeof s['additionalProperties'] === 'object' && s['additionalProperties'] !== null) this.check(s['additionalProperties'] as Schema, value, `${path}.${name}`, out, depth + 1);
    }
    const n = Object.keys(v).length;
    if (typeof s['minProperties'] === 'number' && n < s['minProperties']) out.push(`${path}: fewer than ${s['minProperties']} properties`);
    if (typeof s['maxProperties'] === 'number' && n > s['maxProperties']) out.push(`${path}: more than ${s['maxProperties']} properties`);
  }

  private checkArray(s: Schema, v: unknown[], path: string, out: string[], depth: number): void {
    if (typeof s['minItems'] === 'number' && v.length < s['minItems']) out.push(`${path}: fewer than ${s['minItems']} items`);
    if (typeof s['maxItems'] === 'number' && v.length > s['maxItems']) out.push(`${path}: more than ${s['maxItems']} items`);
    const items = s['items'];
    if (Array.isArray(items)) {
      // Tuple form (draft 2019 and TypeBox's Tuple): positional schemas, then additionalItems.
      v.forEach((item, i) => {
        if (i < items.length) this.check(items[i] as Schema, item, `${path}[${i}]`, out, depth + 1);
        else if (s['additionalItems'] === false) out.push(`${path}: item ${i} beyond the tuple (additionalItems: false)`);
        else if (typeof s['additionalItems'] === 'object') this.check(s['additionalItems'] as Schema, item, `${path}[${i}]`, out, depth + 1);
      });
    } else if (items !== undefined) {
      v.forEach((item, i) => this.check(items as Schema, item, `${path}[${i}]`, out, depth + 1));
    }
  }
}

export interface Operation {
  /** "POST /v1/transact/{id}" */
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly op: Record<string, any>;
}

/** What the contract says about one observed answer. */
export interface Verdict {
  readonly operation: Operation | null;
  readonly problems: string[];
}

/**
 * The document, its operations as URL matchers, and the record of which operations were answered
 * with a documented success status and a conforming body.
 */
export class OpenApiContract {
  readonly validator: SchemaValidator;
  readonly operations: Operation[] = [];
  private readonly matchers: Array<{ re: RegExp; operation: Operation }> = [];
  readonly succeeded = new Map<string, number>();
  readonly statusesSeen = new Map<string, Set<number>>();
  readonly violations: string[] = [];

  constructor(readonly doc: Record<string, any>) {
    this.validator = new SchemaValidator(doc);
    for (const [path, methods] of Object.entries(doc['paths'] as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const operation: Operation = { key: `${method.toUpperCase()} ${path}`, method, path, op };
        this.operations.push(operation);
        const source = path.split(/(\{[A-Za-z][A-Za-z0-9]*\})/).map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))).join('');
        this.matchers.push({ re: new RegExp(`^${source}$`), operation });
      }
    }
  }

  /** The documented operation a request addresses, or null (an undocumented path or method). */
  operationOf(method: string, url: string): Operation | null {
    const path = url.split('?')[0]!;
    const m = method.toLowerCase();
    for (const { re, operation } of this.matchers) if (operation.method === m && re.test(path)) return operation;
    return null;
  }

  schemaOf(name: string): Schema {
    const s = this.doc['components']?.['schemas']?.[name];
    if (s === undefined) throw new Error(`openapi-contract: no component schema ${name}`);
    return s as Schema;
  }

  /**
   * Checks one HTTP answer: a documented operation must declare the status and the body must
   * match that status's schema; an undocumented route must be a 404 (or 429) error body. Records
   * the operation as covered when the answer is a documented 2xx that conforms. Every problem is
   * also kept in `violations`.
   */
  observe(method: string, url: string, status: number, body: unknown, contentType: string): Verdict {
    const operation = this.operationOf(method, url);
    const problems: string[] = [];
    const where = `${method.toUpperCase()} ${url.slice(0, 80)} -> ${status}`;
    if (operation === null) {
      if (status !== 404 && status !== 429 && status !== 413) problems.push(`${where}: an undocumented route answered ${status} (expected 404)`);
      problems.push(...this.validator.validate(this.schemaOf('Error'), body).map((p) => `${where}: ${p}`));
    } else {
      const key = operation.key;
      let seen = this.statusesSeen.get(key);
      if (seen === undefined) this.statusesSeen.set(key, (seen = new Set()));
      seen.add(status);
      const response = operation.op['responses']?.[String(status)] ?? operation.op['responses']?.['default'];
      // 413 (headers) and 429 (per-IP requests) are checked before routing, so any route can give them.
      if (response === undefined) {
        problems.push(`${where}: status ${status} is not documented for ${key} (documented: ${Object.keys(operation.op['responses'] ?? {}).join(', ')})`);
      } else {
        const schema = response['content']?.['application/json']?.['schema'];
        if (schema !== undefined) {
          if (!contentType.startsWith('application/json')) problems.push(`${where}: content-type ${contentType}, documented application/json`);
          problems.push(...this.validator.validate(schema, body).map((p) => `${where}: ${p}`));
        }
      }
      if (problems.length === 0 && status >= 200 && status < 300) this.succeeded.set(key, (this.succeeded.get(key) ?? 0) + 1);
    }
    this.violations.push(...problems);
    return { operation, problems };
  }

  /** Marks an operation covered by a check made elsewhere (the WebSocket upgrade: 101 and messages). */
  covered(key: string): void {
    if (!this.operations.some((o) => o.key === key)) throw new Error(`openapi-contract: ${key} is not in the document`);
    this.succeeded.set(key, (this.succeeded.get(key) ?? 0) + 1);
  }

  /** Operations never answered with a conforming success. */
  uncovered(): string[] {
    return this.operations.filter((o) => !this.succeeded.has(o.key)).map((o) => o.key);
  }
}
