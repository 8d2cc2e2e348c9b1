// Starter templates for the playbooks: installing a playbook with `starters: true` creates, for every template it
// needs and was not given, a ready-to-edit template in the brand kit, so a new workspace can go from the gallery to a
// published journey without writing a template first (Klaviyo and Braze ship their flows with content the same way).
// Every variable has a default: a starter renders for anyone, with or without the event's properties.
import type { PlaybookKey } from './playbooks.ts';

export type StarterSource =
  | { channel: 'email'; subject: string; preheader: string; mjml: string }
  | { channel: 'sms'; body: string }
  | { channel: 'push'; title: string; body: string; url: string };

export interface Starter {
  name: string;
  source: StarterSource;
}

const HI = 'Hi {{ profile.traits.first_name | default: "there" }},';
const SHOP = 'https://your-shop.example';
const ITEM = '{{ event.properties.name | default: "the item you picked" }}';
const ITEM_URL = `{{ event.properties.url | default: "${SHOP}" }}`;
const STOP = 'Reply STOP to opt out.';

function email(subject: string, preheader: string, paragraphs: string[], cta: string, href = SHOP): StarterSource {
  const text = paragraphs.map((p) => `      <mj-text>${p}</mj-text>`).join('\n');
  const mjml = `<mj-section>\n  <mj-column>\n      <mj-text font-size="18px">${HI}</mj-text>\n${text}\n      <mj-button href="${href}">${cta}</mj-button>\n  </mj-column>\n</mj-section>`;
  return { channel: 'email', subject, preheader, mjml };
}
const sms = (body: string): StarterSource => ({ channel: 'sms', body });
const push = (title: string, body: string, url = SHOP): StarterSource => ({ channel: 'push', title, body, url });

/** Starters per playbook, keyed by the playbook's template parameter ('templates.email'). */
export const STARTERS: { [K in PlaybookKey]: Record<string, Starter> } = {
  welcomeSeries: {
    'templates.welcome': { name: 'Welcome 1: hello', source: email('Welcome to {{ brand.name }}', 'Good to have you with us', ['Thanks for joining {{ brand.name }}. Here is what we are about, and where to start.'], 'Start shopping') },
    'templates.second': { name: 'Welcome 2: our favourites', source: email('Our customers’ favourites', 'The pieces people come back for', ['These are the products our customers love most: a good place to begin.'], 'See the favourites') },
    'templates.third': { name: 'Welcome 3: a little something', source: email('A little something for your first order', 'Still looking around?', ['If you have not found the right thing yet, reply to this email and we will help you choose.'], 'Find yours') },
  },
  cartAbandonment: {
    'templates.email': { name: 'Cart reminder (email)', source: email(`You left ${ITEM} in your cart`, 'It is still waiting for you', [`You left ${ITEM} in your cart. It is saved for you, ready when you are.`], 'Back to my cart', ITEM_URL) },
    'templates.sms': { name: 'Cart reminder (SMS)', source: sms(`{{ brand.name }}: ${ITEM} is still in your cart. ${ITEM_URL} ${STOP}`) },
  },
  postPurchase: {
    'templates.thanks': { name: 'Order thank-you', source: email('Thank you for your order', 'We are getting it ready', ['Thank you for shopping with {{ brand.name }}. We will let you know when your order is on its way.'], 'View my order') },
    'templates.crossSell': { name: 'Goes well with your order', source: email('Goes well with what you bought', 'Picked for you', ['Customers who bought what you bought also liked these.'], 'Take a look') },
    'templates.review': { name: 'Review request', source: email('How was your order?', 'Tell us in a minute', ['We hope you are enjoying your order. Would you tell other customers what you think?'], 'Write a review') },
  },
  browseAbandonment: {
    'templates.email': { name: 'Still thinking it over? (email)', source: email(`Still thinking about ${ITEM}?`, 'Take another look', [`You were looking at ${ITEM}. Here it is again, in case you want another look.`], 'Take another look', ITEM_URL) },
    'templates.push': { name: 'Still thinking it over? (push)', source: push('Still thinking it over?', `${ITEM} is one tap away.`, ITEM_URL) },
  },
  winBack: {
    'templates.email': { name: 'We miss you', source: email('We miss you', 'It has been a while', ['It has been a while since your last visit to {{ brand.name }}. Here is what is new since then.'], 'See what is new') },
    'templates.offerSms': { name: 'Come back offer (SMS)', source: sms(`{{ brand.name }}: we miss you. Come back this week for something special: ${SHOP} ${STOP}`) },
    'templates.offerEmail': { name: 'Come back offer (email)', source: email('Something special to welcome you back', 'This week only', ['Come back this week and we have something special for you.'], 'Claim it') },
  },
  checkoutAbandonment: {
    'templates.email': { name: 'Finish your checkout (email)', source: email('You were almost there', 'Your checkout is saved', ['Your checkout is saved. Finish it in a few clicks, or reply if something stopped you.'], 'Finish checkout', ITEM_URL) },
    'templates.reminderEmail': { name: 'Checkout reminder (email)', source: email('Your basket is still saved', 'Last reminder', ['Just a reminder that your basket is still saved for you.'], 'Finish checkout', ITEM_URL) },
    'templates.reminderSms': { name: 'Checkout reminder (SMS)', source: sms(`{{ brand.name }}: your checkout is still saved. ${ITEM_URL} ${STOP}`) },
    'templates.reminderPush': { name: 'Checkout reminder (push)', source: push('Your basket is still saved', 'Finish your checkout in a tap.', ITEM_URL) },
  },
  birthday: {
    'templates.email': { name: 'Happy birthday (email)', source: email('Happy birthday, {{ profile.traits.first_name | default: "friend" }}!', 'A little gift from us', ['Happy birthday from everyone at {{ brand.name }}. Have a lovely day.'], 'Treat yourself') },
    'templates.sms': { name: 'Happy birthday (SMS)', source: sms(`Happy birthday from {{ brand.name }}! ${STOP}`) },
  },
  storeVisit: {
    'templates.sms': { name: 'In-store offer (SMS)', source: sms(`Welcome to {{ brand.name }}! Ask at the till about today's in-store offer. ${STOP}`) },
  },
  pickupReady: {
    'templates.sms': { name: 'Ready for pickup (SMS)', source: sms('{{ brand.name }}: your order {{ event.properties.order_id | default: "" }} is ready to pick up. Bring this message to the counter.') },
    'templates.push': { name: 'Ready for pickup (push)', source: push('Your order is ready', 'Pick it up at the store whenever suits you.') },
    'templates.email': { name: 'Ready for pickup (email)', source: email('Your order is ready to pick up', 'Come by whenever suits you', ['Your order {{ event.properties.order_id | default: "" }} is ready. Bring this email to the counter.'], 'Store opening hours') },
    'templates.reminderSms': { name: 'Pickup reminder (SMS)', source: sms('{{ brand.name }}: a reminder that your order is waiting for you at the store.') },
  },
};
