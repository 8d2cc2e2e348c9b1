import { renderTemplate, validateTemplate, DEFAULT_BRAND_KIT } from './src/messaging/templates/index.ts';
const brand = { ...DEFAULT_BRAND_KIT, logoUrl: 'https://cdn.example.com/logo.png', address: '1 High St, London', footerText: 'You get this because you signed up.' };
const ctx = { profile: { id: 'p1', email: 'a@x.com', traits: { first_name: '<script>Ann</script>', site: 'javascript:alert(1)' }, timeZone: 'Europe/London' },
  items: [1,2,3].map(i => ({ title: `Prod ${i} & "co"`, url: `https://shop.com/p/${i}`, image_url: `https://cdn/x${i}.png`, price: 1250 * i, currency: 'GBP' })),
  links: { unsubscribeUrl: 'https://omnia.example/u?t=1&x=2', preferencesUrl: 'https://omnia.example/p' }, message: { id: 'm1' } };
const src = { channel: 'email' as const, subject: 'Hi {{ profile.first_name }} & you', preheader: 'Deals {{ profile.traits.first_name }}', mjml: `<mj-section><mj-column><mj-text>Hello {{ profile.first_name | default: "there" }}! <a href="{{ profile.traits.site }}">site</a></mj-text></mj-column></mj-section>
{% for item in items limit: 5 %}{% render 'product_card', product: item %}{% endfor %}` };
console.log(JSON.stringify(validateTemplate(src, {}), null, 1));
let t0 = performance.now();
const r = await renderTemplate(src, ctx, { brand, partials: {} });
console.log('ms', performance.now() - t0, r.warnings);
const e = (r.content as any).email;
console.log(e.subject, '|', e.preheader);
console.log(e.text);
console.log(e.html.match(/Hello[^<]*/)?.[0], e.html.match(/<a href="[^"]*">site/)?.[0], e.html.includes('1 High St'), e.html.match(/href="[^"]*u\?t[^"]*"/)?.[0]);
t0 = performance.now(); for (let i = 0; i < 200; i++) await renderTemplate(src, ctx, { brand, partials: {} }); console.log('cached avg ms', (performance.now() - t0) / 200);
