/*! Omnia web push service worker. Copy this file to your own site (for example https://shop.example/omnia-sw.js):
 * browsers only run a service worker served from the page's own origin, so it cannot be loaded from Omnia's host.
 * Then call omnia.push.subscribe({ serviceWorker: '/omnia-sw.js' }). If your site already has a service worker, add
 * these two listeners to it instead (one origin/scope has one worker).
 */
'use strict';

// Omnia's payload: { title, body, icon?, url?, data?, messageId } (JSON, encrypted end to end by the push service).
self.addEventListener('push', function (event) {
  var p = {};
  try {
    p = event.data ? event.data.json() : {};
  } catch (e) {
    p = { body: event.data ? event.data.text() : '' };
  }
  var data = { url: p.url || null, messageId: p.messageId || (p.data && p.data.messageId) || null };
  event.waitUntil(
    self.registration.showNotification(p.title || 'New message', {
      body: p.body || '',
      icon: p.icon || undefined,
      data: data,
      // The same message delivered twice (a resend after a crash) replaces itself instead of showing twice.
      tag: data.messageId || undefined,
    }),
  );
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var url = event.notification.data && event.notification.data.url;
  if (!url) return;
  var target = new URL(url, self.location.origin).href; // "/cart" is a path on this site
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
      for (var i = 0; i < list.length; i++) if (list[i].url === target && 'focus' in list[i]) return list[i].focus();
      return self.clients.openWindow(target);
    }),
  );
});
