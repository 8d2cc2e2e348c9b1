/*! omnia.js: Omnia's browser SDK (Segment call shapes, onsite messages, web push). Served at /sdk/omnia.js, no build step.
 * Install (docs/tracking.md):
 *   <script>!function(){var o=window.omnia=window.omnia||[];["load","identify","track","page","reset","onsite","flush"].forEach(function(m){o[m]=o[m]||function(){o.push([m].concat([].slice.call(arguments)))}})}();omnia.load("WRITE_KEY",{host:"https://omnia.example.com"});omnia.page();</script>
 *   <script async src="https://omnia.example.com/sdk/omnia.js"></script>
 */
(function (w, d) {
  'use strict';
  var VERSION = '0.1.0';
  var QKEY = 'omnia_queue', AKEY = 'omnia_aid', UKEY = 'omnia_user';
  var MAX_QUEUE = 1000, BATCH_BYTES = 400000, BEACON_BYTES = 60000; // the API takes 500 KB a request; beacons ~64 KB
  var prev = w.omnia;
  if (prev && prev.VERSION) return; // the script was included twice
  var stubbed = Array.isArray(prev) ? prev.slice() : [];
  var script = d.currentScript;
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : '';
  var noop = function () {};

  var S = { loaded: false, writeKey: '', host: '', aid: null, uid: null, hash: null, flushAt: 20, flushMs: 1000, cookieDomain: '' };
  var pre = []; // calls made before load(): nothing touches cookies, storage or the network until the site calls load()
  var queue = []; // calls not yet acknowledged, oldest first (persisted)
  var owned = {}; // messageIds this tab manages: saving replaces only these in the stored queue, so other tabs' calls survive
  var waiting = {}; // messageId -> [resolve, reject] of the call's promise
  var timer = null, timerAt = 0, inflight = false, failures = 0, retryAt = 0;

  function ls(k, v) {
    try {
      if (v === undefined) return localStorage.getItem(k);
      if (v === null) localStorage.removeItem(k);
      else localStorage.setItem(k, v);
    } catch (e) { /* storage disabled or full: the SDK still works for this page */ }
    return null;
  }
  function readJSON(k) { try { return JSON.parse(ls(k) || 'null'); } catch (e) { return null; } }
  function getCookie(n) { var m = d.cookie.match(new RegExp('(?:^|; )' + n + '=([^;]*)')); return m ? decodeURIComponent(m[1]) : null; }
  function setCookie(n, v) {
    d.cookie = n + '=' + encodeURIComponent(v) + '; Path=/; Max-Age=31536000; SameSite=Lax' + (location.protocol === 'https:' ? '; Secure' : '') + (S.cookieDomain ? '; Domain=' + S.cookieDomain : '');
  }
  function isObj(x) { return x !== null && typeof x === 'object' && !Array.isArray(x); }
  function enc(s) { return encodeURIComponent(s); }
  function uuid() { // crypto.randomUUID exists only in secure contexts; stores on plain http still need ids
    var h = Array.prototype.map.call(crypto.getRandomValues(new Uint8Array(16)), function (x, i) {
      return ((i === 6 ? (x & 15) | 64 : i === 8 ? (x & 63) | 128 : x) + 256).toString(16).slice(1);
    }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  /** A programmer error: logged once, and returned as a rejected promise that is not also an "unhandled rejection". */
  function fail(msg) {
    var e = new TypeError('omnia: ' + msg);
    console.error(e.message);
    var p = Promise.reject(e);
    p.catch(noop);
    return p;
  }
  function run(f) { if (S.loaded) f(); else pre.push(f); }
  function setAid(id) { S.aid = id; setCookie(AKEY, id); ls(AKEY, id); }
  function saveUser() { ls(UKEY, S.uid ? JSON.stringify({ userId: S.uid, userHash: S.hash }) : null); }
  function pageInfo() { return { url: location.href, path: location.pathname, search: location.search, title: d.title, referrer: d.referrer }; }
  function context() {
    var tz;
    try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { /* old browsers */ }
    return { page: pageInfo(), userAgent: navigator.userAgent, locale: navigator.language, timezone: tz, library: { name: 'omnia.js', version: VERSION } };
  }

  // ---- the queue: batched, retried with backoff, persisted until acknowledged ----
  function call(type, fields, before) {
    // channel "browser" tells Omnia this is web activity (it is not inferred from the library name).
    var msg = { type: type, messageId: uuid(), timestamp: new Date().toISOString(), channel: 'browser', context: context() };
    for (var k in fields) msg[k] = fields[k];
    var p = new Promise(function (res, rej) { waiting[msg.messageId] = [res, rej]; });
    p.catch(noop);
    run(function () {
      if (before) before();
      msg.anonymousId = S.aid;
      if (S.uid) msg.userId = S.uid;
      owned[msg.messageId] = 1;
      queue.push(msg);
      if (queue.length > MAX_QUEUE) settle(queue.splice(0, queue.length - MAX_QUEUE), 'dropped: more than ' + MAX_QUEUE + ' calls waiting');
      save();
      schedule(queue.length >= S.flushAt ? 0 : S.flushMs);
    });
    return p;
  }
  function save() {
    var stored = readJSON(QKEY);
    var all = (Array.isArray(stored) ? stored.filter(function (c) { return c && !owned[c.messageId]; }) : []).concat(queue).slice(-MAX_QUEUE);
    ls(QKEY, all.length ? JSON.stringify(all) : null);
  }
  function schedule(ms) {
    if (inflight || !queue.length) return;
    var at = Math.max(Date.now() + ms, retryAt);
    if (timer && timerAt <= at) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(flush, at - Date.now());
  }
  function take(max) {
    var n = 0, bytes = 0;
    while (n < queue.length && n < 2500 && (n === 0 || bytes + JSON.stringify(queue[n]).length < max)) bytes += JSON.stringify(queue[n++]).length;
    return queue.slice(0, n);
  }
  // writeKey in the body and text/plain, as analytics.js does: no preflight, and sendBeacon can set no header.
  function body(batch) { return JSON.stringify({ batch: batch, sentAt: new Date().toISOString(), writeKey: S.writeKey }); }
  /** Removes calls from the queue and settles their promises (errors: messageId -> message). */
  function settle(batch, error, errors) {
    var ids = {};
    batch.forEach(function (c) {
      ids[c.messageId] = 1;
      var wt = waiting[c.messageId], err = error || (errors && errors[c.messageId]);
      delete waiting[c.messageId];
      if (err) console.warn('omnia: ' + c.type + ' ' + (c.event || c.name || '') + ' was not accepted: ' + err);
      if (wt) (err ? wt[1](new Error('omnia: ' + err)) : wt[0]({ messageId: c.messageId }));
    });
    queue = queue.filter(function (c) { return !ids[c.messageId]; });
    save();
  }
  function retry(after) {
    failures++;
    var s = Number(after);
    retryAt = Date.now() + (s > 0 ? s * 1000 : Math.min(60000, 1000 * Math.pow(2, failures - 1)) * (0.8 + Math.random() * 0.4));
  }
  function flush() {
    clearTimeout(timer);
    timer = null;
    if (inflight || !queue.length || !S.loaded) return Promise.resolve();
    var batch = take(BATCH_BYTES);
    inflight = true;
    return fetch(S.host + '/v1/batch', { method: 'POST', body: body(batch), headers: { 'content-type': 'text/plain' }, credentials: 'omit' })
      .then(function (r) {
        if (r.status === 429 || r.status >= 500) return retry(r.headers.get('retry-after'));
        return r.json().catch(function () { return {}; }).then(function (res) {
          failures = 0;
          retryAt = 0;
          if (!r.ok) return settle(batch, 'HTTP ' + r.status + ' ' + ((res.error && res.error.message) || '')); // 4xx: a retry cannot help
          var errors = {};
          (res.rejected || []).forEach(function (x) { if (batch[x.index]) errors[batch[x.index].messageId] = x.field + ': ' + x.message; });
          settle(batch, null, errors);
        });
      })
      .catch(function () { retry(); }) // network error or offline
      .then(function () {
        inflight = false;
        schedule(queue.length >= S.flushAt || failures ? 0 : S.flushMs);
      });
  }
  function beacon() {
    // While the API is failing the calls stay stored for the next page instead: a beacon's answer is never seen.
    if (!S.loaded || !queue.length || failures || !navigator.sendBeacon) return;
    clearTimeout(timer);
    timer = null;
    while (queue.length) {
      var batch = take(BEACON_BYTES);
      if (!navigator.sendBeacon(S.host + '/v1/batch', body(batch))) break; // too big or refused: kept for the next page
      settle(batch);
    }
  }
  /** Resolves when nothing is waiting to be sent (or after ms): the feed and push need the visitor to exist. */
  function drained(ms) {
    var t0 = Date.now();
    return new Promise(function (res) { (function check() { if (!queue.length || Date.now() - t0 > ms) res(); else setTimeout(check, 100); })(); });
  }

  // ---- onsite messages ----
  var os = { on: false, pollMs: 60000, timer: null, shown: {}, closed: {}, css: false };
  function who() {
    var q = 'writeKey=' + enc(S.writeKey) + '&anonymousId=' + enc(S.aid);
    // A userId needs its userHash (identity verification); without one the anonymous id, linked by identify, is used.
    return S.uid && S.hash ? q + '&userId=' + enc(S.uid) + '&userHash=' + enc(S.hash) : q;
  }
  function report(id, action) {
    fetch(S.host + '/v1/onsite/' + enc(id) + '/' + action + '?' + who(), { method: 'POST', keepalive: true, credentials: 'omit' }).catch(noop);
  }
  function poll() {
    clearTimeout(os.timer);
    var p = drained(5000).then(function () {
      if (d.hidden) return { messages: [] };
      return fetch(S.host + '/v1/onsite?' + who(), { credentials: 'omit' }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (b) {
          if (!r.ok) throw new Error('omnia: the onsite feed answered ' + r.status + ' ' + ((b.error && b.error.message) || ''));
          return b;
        });
      });
    }).then(function (b) {
      var list = b.messages || [];
      list.slice().reverse().forEach(show); // oldest first, so the newest banner ends up on top
      return list;
    }).catch(function (e) { console.warn(e.message || e); return []; });
    p.then(function () { if (os.on) os.timer = setTimeout(poll, os.pollMs); });
    return p;
  }
  function el(tag, cls, parent) { var e = d.createElement(tag); if (cls) e.className = cls; if (parent) parent.appendChild(e); return e; }
  function style() {
    if (os.css) return;
    os.css = true;
    el('style', '', d.head).textContent =
      '.omnia-banners{position:fixed;top:0;left:0;right:0;z-index:2147483646}' +
      '.omnia-banner{position:relative;padding:10px 48px 10px 16px;background:#1f2937;color:#fff;font:14px/1.4 system-ui,sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)}' +
      '.omnia-banner a{color:inherit}.omnia-title{font-weight:600;margin:0 0 4px}.omnia-body>:first-child{margin-top:0}.omnia-body>:last-child{margin-bottom:0}' +
      '.omnia-modal{position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;justify-content:center;background:rgba(0,0,0,.5)}' +
      '.omnia-dialog{position:relative;box-sizing:border-box;max-width:min(480px,92vw);max-height:90vh;overflow:auto;padding:24px 40px 24px 24px;border-radius:8px;background:#fff;color:#222;font:15px/1.5 system-ui,sans-serif}' +
      '.omnia-close{position:absolute;top:4px;right:4px;min-width:32px;min-height:32px;border:0;background:none;color:inherit;font-size:22px;line-height:1;cursor:pointer}' +
      '.omnia-close:focus-visible{outline:2px solid currentColor}';
  }
  function show(m) {
    if (!m || !m.id || os.shown[m.id] || os.closed[m.id] || !d.body) return;
    var modal = m.kind === 'modal';
    if (modal && d.querySelector('.omnia-modal')) return; // one modal at a time; the next poll shows the next
    style();
    var box = el('div', modal ? 'omnia-dialog' : 'omnia-banner');
    var title = el('div', 'omnia-title', box);
    title.id = 'omnia-title-' + m.id;
    if (m.url) { var a = el('a', '', title); a.href = m.url; a.textContent = m.title || m.url; } else title.textContent = m.title || '';
    el('div', 'omnia-body', box).innerHTML = m.html || ''; // sanitised and escaped by Omnia when it rendered the message
    var x = el('button', 'omnia-close', box);
    x.type = 'button';
    x.setAttribute('aria-label', 'Close');
    x.textContent = '\u00d7';
    var root = box, opener = d.activeElement;
    if (modal) {
      root = el('div', 'omnia-modal');
      root.appendChild(box);
      box.setAttribute('role', 'dialog');
      box.setAttribute('aria-modal', 'true');
      box.setAttribute('aria-labelledby', title.id);
    } else {
      box.setAttribute('role', 'region');
      box.setAttribute('aria-label', m.title || 'Announcement');
    }
    root.setAttribute('data-omnia-message', m.id);
    function onKey(e) {
      if (e.key === 'Escape' && (modal || box.contains(d.activeElement))) { e.preventDefault(); close(); }
      if (modal && e.key === 'Tab') { // keep focus inside the dialog
        var f = box.querySelectorAll('a[href],button,input,select,textarea,[tabindex]:not([tabindex="-1"])');
        var first = f[0], last = f[f.length - 1];
        if (!box.contains(d.activeElement) || (e.shiftKey ? d.activeElement === first : d.activeElement === last)) { e.preventDefault(); (e.shiftKey ? last : first).focus(); }
      }
    }
    function close(silent) {
      if (!root.parentNode) return;
      root.parentNode.removeChild(root);
      delete os.shown[m.id];
      d.removeEventListener('keydown', onKey, true);
      if (modal && opener && opener.focus) opener.focus();
      if (silent !== true) { os.closed[m.id] = 1; report(m.id, 'dismissed'); }
    }
    x.addEventListener('click', close);
    d.addEventListener('keydown', onKey, true);
    os.shown[m.id] = close;
    if (modal) d.body.appendChild(root);
    else (d.querySelector('.omnia-banners') || el('div', 'omnia-banners', d.body)).appendChild(root);
    if (modal) x.focus();
    if (!m.seen) report(m.id, 'seen');
  }
  function clearOnsite() { for (var id in os.shown) os.shown[id](true); os.closed = {}; }

  // ---- web push ----
  function b64u(s) {
    var bin = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '===='.slice(s.length % 4 || 4)), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }
  function activated(reg) { // pushManager.subscribe needs an active worker
    var sw = reg.installing || reg.waiting;
    if (reg.active || !sw) return Promise.resolve(reg);
    return new Promise(function (res, rej) {
      sw.addEventListener('statechange', function () {
        if (sw.state === 'activated') res(reg);
        else if (sw.state === 'redundant') rej(new Error('omnia: the service worker failed to install'));
      });
    });
  }
  function ok(r) {
    return r.json().catch(function () { return {}; }).then(function (b) {
      if (!r.ok) throw Object.assign(new Error('omnia: ' + r.url.split('?')[0] + ' answered ' + r.status + ' ' + ((b.error && b.error.message) || '')), { status: r.status });
      return b;
    });
  }
  function subscribe(opts) {
    opts = opts || {};
    if (!('serviceWorker' in navigator) || !('PushManager' in w) || !('Notification' in w)) return Promise.resolve('unsupported');
    var perm = Notification.permission === 'default' ? Notification.requestPermission() : Promise.resolve(Notification.permission);
    return Promise.resolve(perm).then(function (p) {
      if (p !== 'granted') return 'denied';
      return Promise.all([
        navigator.serviceWorker.register(opts.serviceWorker || '/omnia-sw.js', opts.scope ? { scope: opts.scope } : undefined).then(activated),
        fetch(S.host + '/v1/push/vapid-public-key?writeKey=' + enc(S.writeKey), { credentials: 'omit' }).then(ok),
      ]).then(function (r) {
        var reg = r[0], key = b64u(r[1].publicKey);
        return reg.pushManager.getSubscription().then(function (sub) {
          var had = sub && sub.options && sub.options.applicationServerKey && new Uint8Array(sub.options.applicationServerKey);
          // A subscription made with another VAPID key (another workspace or push provider) cannot receive Omnia's.
          if (had && had.join() !== key.join()) return sub.unsubscribe().then(function () { return null; });
          return sub;
        }).then(function (sub) { return sub || reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }); });
      }).then(function (sub) {
        var payload = { anonymousId: S.aid, subscription: sub.toJSON ? sub.toJSON() : sub };
        if (S.uid && S.hash) { payload.userId = S.uid; payload.userHash = S.hash; }
        var send = function (tries) {
          return fetch(S.host + '/v1/push/subscribe?writeKey=' + enc(S.writeKey), { method: 'POST', body: JSON.stringify(payload), headers: { 'content-type': 'application/json' }, credentials: 'omit' })
            .then(ok)
            .catch(function (e) { // 404: the visitor's first call is still being processed
              if (e.status === 404 && tries < 3) return new Promise(function (res) { setTimeout(res, 1000); }).then(function () { return send(tries + 1); });
              throw e;
            });
        };
        return drained(5000).then(function () { return send(0); }).then(function () { return 'subscribed'; });
      });
    });
  }

  // ---- the public API ----
  var api = {
    VERSION: VERSION,
    load: function (writeKey, opts) {
      if (S.loaded) return console.warn('omnia: load() was called twice; the second call is ignored');
      if (typeof writeKey !== 'string' || !writeKey) throw new TypeError('omnia: load(writeKey, { host }) needs your workspace write key');
      opts = opts || {};
      S.host = String(opts.host || scriptOrigin).replace(/\/+$/, '');
      if (!/^https?:\/\//.test(S.host)) throw new TypeError('omnia: load(writeKey, { host }): host must be your Omnia URL, like https://omnia.example.com');
      S.writeKey = writeKey;
      S.cookieDomain = opts.cookieDomain || '';
      if (opts.flushAt > 0) S.flushAt = Math.min(opts.flushAt, 100);
      if (opts.flushInterval >= 0) S.flushMs = opts.flushInterval;
      // Set again to renew the cookie's year. opts.anonymousId shares another library's id (analytics.js) with Omnia.
      setAid(String(opts.anonymousId || getCookie(AKEY) || ls(AKEY) || uuid()));
      var u = readJSON(UKEY);
      if (u && u.userId) { S.uid = String(u.userId); S.hash = u.userHash || null; }
      var stored = readJSON(QKEY); // calls an earlier page left unacknowledged
      if (Array.isArray(stored)) stored.forEach(function (c) { if (c && c.messageId && !owned[c.messageId]) { owned[c.messageId] = 1; queue.push(c); } });
      S.loaded = true;
      pre.splice(0).forEach(function (f) { f(); });
      schedule(S.flushMs);
      w.addEventListener('online', function () { retryAt = 0; schedule(0); });
      w.addEventListener('pagehide', beacon);
      d.addEventListener('visibilitychange', function () { if (d.visibilityState === 'hidden') beacon(); });
      if (opts.onsite !== false) api.onsite(isObj(opts.onsite) ? opts.onsite : {});
    },
    identify: function (userId, traits, options) {
      if (isObj(userId)) { options = traits; traits = userId; userId = undefined; }
      if (typeof userId === 'number') userId = String(userId);
      if (userId != null && (typeof userId !== 'string' || !userId)) return fail('identify(userId?, traits?, { userHash }): userId must be a non-empty string');
      if (traits != null && !isObj(traits)) return fail('identify(userId, traits): traits must be an object');
      var hash = options && options.userHash;
      if (hash != null && typeof hash !== 'string') return fail('identify(userId, traits, { userHash }): userHash must be the hex string your server computed');
      return call('identify', { traits: traits || {} }, function () {
        if (userId && S.uid && userId !== S.uid) { // another person on this browser: do not link them through one device id
          S.hash = null;
          setAid(uuid());
          clearOnsite();
        }
        if (userId) { S.uid = userId; if (hash) S.hash = hash; }
        saveUser();
        if (os.on) setTimeout(poll, 0); // the feed may differ for the person now known
      });
    },
    track: function (event, properties) {
      if (typeof event !== 'string' || !event.trim()) return fail('track(event, properties?) needs an event name (a non-empty string), got ' + (event === undefined ? 'nothing' : JSON.stringify(event)));
      if (properties != null && !isObj(properties)) return fail('track("' + event + '", properties): properties must be an object');
      return call('track', { event: event, properties: properties || {} });
    },
    page: function (name, properties) {
      if (isObj(name)) { properties = name; name = undefined; }
      if (name != null && typeof name !== 'string') return fail('page(name?, properties?): name must be a string');
      if (properties != null && !isObj(properties)) return fail('page(name, properties): properties must be an object');
      var props = pageInfo();
      for (var k in properties || {}) props[k] = properties[k];
      return call('page', name ? { name: name, properties: props } : { properties: props });
    },
    reset: function () {
      run(function () { S.uid = S.hash = null; saveUser(); setAid(uuid()); clearOnsite(); });
    },
    onsite: function (opts) {
      opts = opts || {};
      return new Promise(function (res) {
        run(function () {
          os.on = opts.enabled !== false;
          if (opts.pollMs > 0) os.pollMs = Math.max(250, opts.pollMs);
          res(os.on ? poll() : (clearTimeout(os.timer), []));
        });
      });
    },
    push: {
      /** Resolves 'subscribed', 'denied' or 'unsupported'; call it from a user gesture (a click). */
      subscribe: function (opts) { return new Promise(function (res) { run(res); }).then(function () { return subscribe(opts); }); },
    },
    /** Sends now (skipping a backoff wait); resolves when nothing is waiting, or after 10 s. */
    flush: function () { return new Promise(function (res) { run(res); }).then(function () { retryAt = 0; flush(); return drained(10000); }); },
    user: function () { return { anonymousId: S.aid, userId: S.uid }; },
  };
  w.omnia = api;
  stubbed.forEach(function (c) {
    try {
      if (api[c[0]] && typeof api[c[0]] === 'function') api[c[0]].apply(api, c.slice(1));
    } catch (e) { console.error(e.message || e); }
  });
})(window, document);
