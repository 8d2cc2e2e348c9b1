// Segment-spec call shapes (identify, track, page, screen, group, alias, batch). One TypeBox schema per call validates
// each event at the edge, types the code and documents the API in OpenAPI.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Id = Type.Union([Type.String({ minLength: 1, maxLength: 512 }), Type.Number()]);
const Obj = Type.Record(Type.String(), Type.Unknown());
const Timestamp = Type.String({ maxLength: 64, description: 'ISO-8601 date-time' });

const common = {
  messageId: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'Idempotency key; assigned by Omnia when missing' })),
  anonymousId: Type.Optional(Id),
  userId: Type.Optional(Type.Union([Id, Type.Null()])),
  context: Type.Optional(Obj),
  integrations: Type.Optional(Obj),
  timestamp: Type.Optional(Timestamp),
  originalTimestamp: Type.Optional(Timestamp),
  sentAt: Type.Optional(Timestamp),
  receivedAt: Type.Optional(Timestamp),
  version: Type.Optional(Type.Unknown()),
  channel: Type.Optional(Type.String({ maxLength: 64 })),
  writeKey: Type.Optional(Type.String()),
};

export const IdentifyCall = Type.Object({ ...common, traits: Type.Optional(Obj) }, { title: 'Identify' });
export const TrackCall = Type.Object(
  { ...common, event: Type.String({ minLength: 1, maxLength: 256 }), properties: Type.Optional(Obj) },
  { title: 'Track' },
);
export const PageCall = Type.Object(
  {
    ...common,
    name: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    category: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])),
    properties: Type.Optional(Obj),
  },
  { title: 'Page' },
);
export const ScreenCall = Type.Object(
  { ...common, name: Type.Optional(Type.Union([Type.String({ maxLength: 512 }), Type.Null()])), properties: Type.Optional(Obj) },
  { title: 'Screen' },
);
export const GroupCall = Type.Object({ ...common, groupId: Id, traits: Type.Optional(Obj) }, { title: 'Group' });
export const AliasCall = Type.Object({ ...common, previousId: Id, userId: Id }, { title: 'Alias' });

export const CallTypes = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type CallType = (typeof CallTypes)[number];

export const BatchCall = Type.Object(
  {
    batch: Type.Array(Type.Object({ type: Type.String() }, { additionalProperties: true }), { maxItems: 2500 }),
    sentAt: Type.Optional(Timestamp),
    context: Type.Optional(Obj),
    integrations: Type.Optional(Obj),
    writeKey: Type.Optional(Type.String()),
  },
  { title: 'Batch' },
);

export const schemaByType: Record<CallType, TSchema> = {
  identify: IdentifyCall,
  track: TrackCall,
  page: PageCall,
  screen: ScreenCall,
  group: GroupCall,
  alias: AliasCall,
};

export type AnyCall = Static<typeof IdentifyCall> &
  Partial<Static<typeof TrackCall>> &
  Partial<Static<typeof PageCall>> &
  Partial<Static<typeof GroupCall>> &
  Partial<Static<typeof AliasCall>> & { type?: string; traits?: Record<string, unknown>; properties?: Record<string, unknown> };

const compiled = Object.fromEntries(CallTypes.map((t) => [t, TypeCompiler.Compile(schemaByType[t])])) as Record<
  CallType,
  ReturnType<typeof TypeCompiler.Compile>
>;

export interface FieldError {
  field: string;
  message: string;
}

/** Validates one call against its type's schema; returns the first error with the field it concerns. */
export function validateCall(type: CallType, value: unknown): FieldError | null {
  const c = compiled[type];
  if (c.Check(value)) return null;
  const e = c.Errors(value).First();
  if (!e) return { field: '', message: 'invalid event' };
  const field = e.path.replace(/^\//, '').replace(/\//g, '.') || '(body)';
  return { field, message: e.message };
}
