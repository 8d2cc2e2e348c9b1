import { describe, expect, it } from 'vitest';
import { type JourneyDefinition, checkJourney } from './definition.ts';

const base = (): JourneyDefinition => ({
  name: 'Test',
  topic: 'promo',
  priority: 50,
  entry: { kind: 'event', event: 'Product Added', filters: [{ path: 'price', op: 'gt', value: 10 }] },
  reentry: { policy: 'once' },
  start: 'a',
  nodes: {
    a: { kind: 'send', channel: 'email', templates: { email: 't1' }, next: 'b' },
    b: { kind: 'delay', duration: { amount: 1, unit: 'hours' }, next: 'c' },
    c: { kind: 'split', condition: { kind: 'trait', trait: 'vip', op: 'eq', value: true }, yes: 'd', no: 'd' },
    d: { kind: 'exit' },
  },
});

type Mutate = (d: any) => void;
const cases: [string, Mutate, string, RegExp][] = [
  ['dangling edge', (d) => (d.nodes.a.next = 'nowhere'), 'nodes.a.next', /"nowhere", which is not a node/],
  ['dangling split branch', (d) => (d.nodes.c.no = 'zz'), 'nodes.c.no', /not a node/],
  ['missing start', (d) => (d.start = 'x'), 'start', /does not exist/],
  ['unreachable node', (d) => (d.nodes.orphan = { kind: 'exit' }), 'nodes.orphan', /not reachable/],
  [
    'instant cycle',
    (d) => {
      d.nodes.b = { kind: 'update_trait', trait: 'x', value: 1, next: 'c' };
      d.nodes.c.no = 'a';
    },
    'nodes.c.no',
    /instant cycle a → b → c → a/,
  ],
  ['instant self loop', (d) => (d.nodes.c.yes = 'c'), 'nodes.c.yes', /itself/],
  ['send without template', (d) => (d.nodes.a.templates = {}), 'nodes.a.templates', /at least one template/],
  ['send channel without its template', (d) => (d.nodes.a.channel = 'sms'), 'nodes.a.templates.sms', /channel sms has no template/],
  ['split without no', (d) => delete d.nodes.c.no, 'nodes.c.no', /missing required field/],
  ['multi_split without else', (d) => (d.nodes.c = { kind: 'multi_split', branches: [{ condition: { kind: 'list', listId: 'l' }, next: 'd' }] }), 'nodes.c.else', /missing required field/],
  ['random weights over 100', (d) => (d.nodes.c = { kind: 'random_split', branches: [{ weight: 60, next: 'd' }, { weight: 30, next: 'd' }], holdout: 20 }), 'nodes.c.branches', /add up to 110/],
  ['random weight 0', (d) => (d.nodes.c = { kind: 'random_split', branches: [{ weight: 0, next: 'd' }] }), 'nodes.c.branches.0.weight', /> 0/],
  ['negative holdout', (d) => (d.nodes.c = { kind: 'random_split', branches: [{ weight: 50, next: 'd' }], holdout: -1 }), 'nodes.c.holdout', /> 0/],
  ['unknown node field', (d) => (d.nodes.a.colour = 'red'), 'nodes.a.colour', /unknown field/],
  ['unknown top-level field', (d) => (d.owner = 'me'), 'owner', /unknown field/],
  ['unknown node kind', (d) => (d.nodes.a.kind = 'teleport'), 'nodes.a.kind', /unknown node kind/],
  ['zero duration', (d) => (d.nodes.b.duration.amount = 0), 'nodes.b.duration.amount', /greater than 0/],
  ['delay with both forms', (d) => (d.nodes.b.until = { time: '09:00' }), 'nodes.b', /exactly one of duration or until/],
  ['bad local time', (d) => (d.nodes.b = { kind: 'delay', until: { time: '25:00' }, next: 'c' }), 'nodes.b.until.time', /match/],
  ['bad condition inside split', (d) => (d.nodes.c.condition = { kind: 'trait', trait: 'age', op: 'gt' }), 'nodes.c.condition.value', /needs a value/],
  ['bad filter in entry', (d) => (d.entry.filters[0].op = 'between'), 'entry.filters.0.value', /between/],
  ['bad exit rule', (d) => (d.exits = [{ segment: 's1', op: 'joined' }]), 'exits.0.op', /./],
  ['bad wait_until trigger', (d) => (d.nodes.b = { kind: 'wait_until', until: { event: 'X', extra: 1 }, timeoutAfter: { amount: 1, unit: 'days' }, next: 'c', onTimeout: 'd' }), 'nodes.b.until.extra', /unknown field/],
  ['priority out of range', (d) => (d.priority = 101), 'priority', /100/],
  ['reentry every without days', (d) => (d.reentry = { policy: 'every' }), 'reentry.days', /needs days/],
  ['schedule without time', (d) => (d.entry = { kind: 'schedule', every: 'day' }), 'entry.time', /HH:MM/],
  ['bad node id', (d) => (d.nodes['bad id'] = { kind: 'exit' }), 'nodes.bad id', /node ids/],
  [
    'too many nodes',
    (d) => {
      for (let i = 0; i < 200; i++) d.nodes[`n${i}`] = { kind: 'exit' };
    },
    'nodes',
    /at most 200/,
  ],
  ['empty name', (d) => (d.name = ''), 'name', /length/],
];

describe('checkJourney', () => {
  it('accepts a valid journey', () => {
    expect(checkJourney(base())).toEqual([]);
  });

  it('accepts a cycle through a delay', () => {
    const d: any = base();
    d.nodes.c.no = 'a';
    expect(checkJourney(d)).toEqual([]);
  });

  it.each(cases)('%s → names the place', (_name, mutate, path, message) => {
    const d = structuredClone(base());
    mutate(d);
    const errors = checkJourney(d);
    const hit = errors.find((e) => e.path === path);
    expect(hit, JSON.stringify(errors)).toBeDefined();
    expect(hit!.message).toMatch(message);
  });

  it('reports every broken node, not only the first', () => {
    const d: any = base();
    d.nodes.a.next = 'x';
    d.nodes.c.yes = 'y';
    expect(checkJourney(d).map((e) => e.path)).toEqual(['nodes.a.next', 'nodes.c.yes']);
  });

  it('refuses non-objects', () => {
    expect(checkJourney(null)).toEqual([{ path: '(root)', message: 'must be a journey object' }]);
  });
});
