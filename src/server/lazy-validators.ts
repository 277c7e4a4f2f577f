/**
 * Fastify compiles every route's JSON schema with Ajv when the app gets ready: for the server's
 * forty-odd store routes that was about a quarter of a server's start-up CPU (0.3–0.4 s of 1.6 s,
 * profiled), paid by every server a client starts, while a server's life uses a handful of routes.
 * This factory gives each route a validator that compiles its schema with Fastify's own compiler
 * (@fastify/ajv-compiler, the same options) on the route's first request instead.
 */
import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;

interface Validate {
  (data: unknown): unknown;
  errors?: unknown;
}

function buildLazy(externalSchemas: unknown, ajvOptions: unknown): (route: unknown) => Validate {
  const build = (AjvCompiler() as unknown as (ext: unknown, opts: unknown) => (route: unknown) => Validate)(
    externalSchemas ?? {},
    ajvOptions,
  );
  return (route) => {
    let compiled: Validate | undefined;
    const validate: Validate = (data) => {
      compiled ??= build(route);
      const result = compiled(data);
      validate.errors = compiled.errors ?? null;
      return result;
    };
    return validate;
  };
}

export const lazyValidators = buildLazy as unknown as BuildValidator;
