// How an HTTP endpoint is declared: method, path, who may call it, the schemas of its path
// parameters, query and body, what it answers, and its handler. The router (http-router.ts) and the
// OpenAPI document (openapi.ts) both read these declarations, so they cannot disagree.

import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { Principal } from '../accounts/principal';
import type { RoleName } from '../accounts/roles';
import type { HttpExchange } from './http-exchange';
import { Validator } from './schema-validation';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call: anyone, any authenticated account, or only the listed roles. */
export type Access = 'public' | 'authenticated' | readonly RoleName[];

export interface RouteInput<P extends TObject, Q extends TObject, B extends TObject | undefined> {
  readonly principal: Principal | null;
  /** The bearer credential the principal was authenticated with ('' on public routes). */
  readonly credential: string;
  readonly params: Static<P>;
  readonly query: Static<Q>;
  readonly body: B extends TObject ? Static<B> : undefined;
}

export interface RouteDeclaration<P extends TObject = TObject, Q extends TObject = TObject, B extends TObject | undefined = TObject | undefined> {
  readonly method: HttpMethod;
  /** OpenAPI form, parameters in braces: /v1/transact/{id}. */
  readonly path: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  /** Login, application and credential routes get the per-IP credential-call limit. */
  readonly credentialRoute?: boolean;
  readonly success: { readonly status: number; readonly schema: TSchema; readonly description: string };
  /** Error statuses this route can answer besides the ones every route can (for the docs). */
  readonly errors: readonly number[];
  readonly handle: (ex: HttpExchange, input: RouteInput<P, Q, B>) => void | Promise<void>;
}

/** A declaration with its validators compiled (once, at start-up). */
export interface Route {
  readonly decl: RouteDeclaration;
  readonly uwsPattern: string;
  readonly paramNames: readonly string[];
  readonly params: Validator<TObject>;
  readonly query: Validator<TObject>;
  readonly body: Validator<TObject> | null;
}

export function declare<P extends TObject, Q extends TObject, B extends TObject | undefined>(d: RouteDeclaration<P, Q, B>): RouteDeclaration {
  return d as unknown as RouteDeclaration;
}

export function compileRoute(decl: RouteDeclaration): Route {
  const paramNames: string[] = [];
  const uwsPattern = decl.path.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, (_m, name: string) => {
    paramNames.push(name);
    return `:${name}`;
  });
  const declared = Object.keys(decl.params.properties);
  if (declared.length !== paramNames.length || declared.some((n, i) => n !== paramNames[i])) {
    throw new Error(`route ${decl.method.toUpperCase()} ${decl.path}: path parameters ${paramNames.join(',')} do not match the params schema ${declared.join(',')}`);
  }
  return {
    decl,
    uwsPattern,
    paramNames,
    params: new Validator(decl.params, 'path'),
    query: new Validator(decl.query, 'query string'),
    body: decl.body === undefined ? null : new Validator(decl.body, 'request body'),
  };
}
