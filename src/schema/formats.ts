// String formats for schemas checked by TypeBox itself (TypeCompiler / Value), outside Fastify's ajv: TypeBox knows
// no formats until they are registered, and refuses every value of an unknown one ("Unknown format 'date-time'").
// Imported for its side effect by the modules that compile such schemas.
import { FormatRegistry } from '@sinclair/typebox';

/** An instant: RFC 3339 date-time with a zone (Z or ±hh:mm); seconds and fractions optional. */
const DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?([Zz]|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

export const isDateTime = (v: string) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v));

if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', isDateTime);
