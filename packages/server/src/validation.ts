/**
 * Route schemas are TypeBox; this compiler checks requests with the same
 * validator the core uses, so API errors read like every other Warden error
 * (field, expectation, received value, fix). Query strings and path params
 * arrive as strings and are converted to the schema's types first.
 */
import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parseWith } from '@warden/protocol';

const PART_NAMES: Record<string, string> = { body: 'request body', querystring: 'query string', params: 'URL', headers: 'headers' };

export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const what = PART_NAMES[httpPart ?? 'body'] ?? 'request';
  const convert = httpPart === 'querystring' || httpPart === 'params';
  return (data: unknown) => {
    try {
      const input = convert ? Value.Convert(schema, data) : data;
      return { value: parseWith(schema, input, what, 'E_INVALID_REQUEST') };
    } catch (error) {
      return { error: error as Error };
    }
  };
};
