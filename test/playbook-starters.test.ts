// Playbooks with starter templates: every playbook installs from the gallery with `starters: true` and nothing else
// but its non-template parameters, each starter is a real template on the right channel that renders for a person
// with no traits and for one with an event, the journey publishes, given templates are kept, and bad input creates
// nothing. On both backends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestOmnia, startTestOmnia } from './helpers.ts';

describe.each(BACKENDS)('playbook starter templates (%s)', (backend) => {
  let o: TestOmnia;
  let atRisk: string;
  let emailTpl: string;
  beforeAll(async () => {
    o = await startTestOmnia(backend);
    atRisk = (await o.api('POST', '/api/segments', { name: 'At risk', definition: { kind: 'computed', property: 'rfm_stage', op: 'eq', value: 'At risk' } })).body.id;
    expect(atRisk).toBeTruthy();
    emailTpl = (await o.api('POST', '/api/templates', { name: 'My own cart email', source: { channel: 'email', subject: 'Yours', mjml: '<mj-section><mj-column><mj-text>Mine</mj-text></mj-column></mj-section>' } })).body.id;
    await o.track('/v1/identify', { userId: 'plain', traits: { email: 'plain@example.com' } });
    await o.settle();
  });
  afterAll(async () => {
    await o?.close();
  });

  const templates = async () => (await o.api('GET', '/api/templates')).body.templates as { id: string; name: string; channel: string }[];

  it('installs every playbook with starters; each starter renders and each journey publishes', async () => {
    const gallery = (await o.api('GET', '/api/playbooks')).body.playbooks as { key: string; params: { name: string; type: string; required: boolean }[] }[];
    expect(gallery.length).toBe(9);
    const person = (await o.api('GET', '/api/profiles/lookup?userId=plain')).body.id;
    for (const pb of gallery) {
      const before = new Set((await templates()).map((t) => t.id));
      const body: Record<string, unknown> = { starters: true, ...(pb.key === 'winBack' ? { atRiskSegment: atRisk } : {}) };
      const r = await o.api('POST', `/api/playbooks/${pb.key}`, body);
      expect(r.status, `${pb.key}: ${JSON.stringify(r.body)}`).toBe(201);
      const wanted = pb.params.filter((p) => p.type === 'template' && p.required);
      expect(r.body.starterTemplates).toHaveLength(wanted.length);
      const made = (await templates()).filter((t) => !before.has(t.id));
      expect(made.map((t) => t.id).sort()).toEqual([...r.body.starterTemplates].sort());
      // The journey uses them, each on the channel its node sends on (publish checks that too).
      const journey = (await o.api('GET', `/api/journeys/${r.body.id}`)).body;
      const used = JSON.stringify(journey.draft ?? journey.definition);
      for (const id of r.body.starterTemplates) expect(used).toContain(id);
      const pub = await o.api('POST', `/api/journeys/${r.body.id}/publish`, {});
      expect(pub.status, `${pb.key} publish: ${JSON.stringify(pub.body)}`).toBeLessThan(300);
      // Every starter renders for a person with no name and no event, and with an event that has properties.
      for (const t of made) {
        const plain = await o.api('POST', '/api/templates/preview', { templateId: t.id, profileId: person });
        expect(plain.status, `${t.name}: ${JSON.stringify(plain.body)}`).toBe(200);
        const withEvent = await o.api('POST', '/api/templates/preview', { templateId: t.id, profileId: person, event: { name: 'Product Added', properties: { name: 'Fig candle', url: 'https://shop.example/fig' } } });
        expect(withEvent.status).toBe(200);
        const rendered = JSON.stringify(withEvent.body.content);
        if (t.name.startsWith('Cart reminder')) expect(rendered).toContain('Fig candle');
        expect(rendered).not.toMatch(/\{\{|\{%/);
      }
    }
  });

  it('a template given is kept; only the missing one is made from its starter', async () => {
    const r = await o.api('POST', '/api/playbooks/cartAbandonment', { starters: true, templates: { email: emailTpl } });
    expect(r.status).toBe(201);
    expect(r.body.starterTemplates).toHaveLength(1);
    const made = (await templates()).find((t) => t.id === r.body.starterTemplates[0])!;
    expect(made.channel).toBe('sms');
    const journey = (await o.api('GET', `/api/journeys/${r.body.id}`)).body;
    expect(JSON.stringify(journey.draft ?? journey.definition)).toContain(emailTpl);
  });

  it('bad input is refused, naming the field, and creates no template', async () => {
    const before = (await templates()).length;
    const noSegment = await o.api('POST', '/api/playbooks/winBack', { starters: true });
    expect(noSegment.status).toBe(400);
    expect(noSegment.body.error.field).toBe('atRiskSegment');
    const badFlag = await o.api('POST', '/api/playbooks/cartAbandonment', { starters: 'yes' });
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.error.field).toBe('starters');
    const withoutStarters = await o.api('POST', '/api/playbooks/cartAbandonment', {});
    expect(withoutStarters.status).toBe(400);
    expect(withoutStarters.body.error.field).toBe('templates.email');
    // A segment that does not exist: the journey is refused after the starters were made; they are archived again.
    const ghost = await o.api('POST', '/api/playbooks/winBack', { starters: true, atRiskSegment: 'seg_nope' });
    expect(ghost.status).toBe(400);
    expect(ghost.body.error.message).toContain('seg_nope');
    expect((await templates()).length).toBe(before);
  });
});
