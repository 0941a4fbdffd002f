/*!
 * newslake tracker: reports each page visit to the newslake collector (POST /pageview).
 *
 * Plain JavaScript, no dependencies, no build step needed (newslake-tracker.min.js is the
 * same file minified by `make tracker`). Configure it before it loads:
 *
 *   <meta name="newslake:article-id" content="a-123">            (on article pages)
 *   <script>window.newslake = {endpoint: "https://collect.example.com/pageview",
 *                              portal: "g1", userId: null, consent: true};</script>
 *   <script async src="/newslake-tracker.min.js"></script>
 *
 * or with data attributes on the script tag: data-endpoint, data-portal, data-user-id,
 * data-article-id, data-consent="false".
 *
 * Each page load sends a `view` event, then an `engagement` event with running totals each
 * time the page is hidden or left. The events carry exactly the fields of
 * ingestion/schema.py's Pageview (the collector refuses any other field).
 *
 * - user_id: a first-party random id kept in localStorage and a cookie, replaced by
 *   `userId` when the page knows who is logged in. session_id ends after 30 minutes
 *   without activity.
 * - dwell_ms counts engaged time only: the page visible and the reader active (scroll, key,
 *   pointer, touch) within the last 5 seconds. scroll_depth is the deepest percent of the
 *   page seen; clicks and clicked_urls (at most 50) count clicks on http(s) links.
 * - Delivery: batches of at most 100 events; fetch (keepalive) while the page lives,
 *   navigator.sendBeacon when it is hidden or left (fetch keepalive if the beacon is
 *   refused). Network errors, 429 and 5xx are retried with exponential backoff; other
 *   4xx are dropped (they would fail again). Events wait in a localStorage queue (at most
 *   200, the oldest dropped first) while offline and go out when the browser is back online.
 *   Queued events older than 23 hours are dropped (the collector refuses them). Delivery
 *   is at least once (a request cut by a navigation is sent again); the lake keeps one event
 *   per event_id. The collector must answer CORS for the page's origin: fetch reads the
 *   status to decide what to retry.
 * - Anonymous mode, when the reader asks for Do Not Track or Global Privacy Control or
 *   the page passes consent: false: ids are random per page load, the logged-in id is not
 *   sent, and nothing is written to cookies or localStorage.
 *
 * - Recommended links: the portal marks each link of a newslake list with
 *   data-newslake-rec="<recommendation_id>:<position>" (32 lowercase hex digits, 1..100).
 *   A click on such a link to this origin sends an engagement event with rec_id and
 *   rec_position at once. When the link opens in this tab, they are also kept, with the
 *   link's origin and path, in sessionStorage; the next page load sends them on its view
 *   only if it is that page (and within 10 minutes), then forgets them. A link to another
 *   origin, or a malformed value, is an ordinary link. Nothing is kept in anonymous mode.
 *
 * window.newslakeTracker.setUserId(id) switches to a logged-in id; .flush() sends now.
 */
(function (window, document) {
  'use strict';

  var PREFIX = 'newslake:';
  var COOKIE = 'newslake_uid';
  var SESSION_IDLE_MS = 30 * 60 * 1000;
  var ACTIVE_MS = 5000; // a reader is engaged this long after their last action
  var MAX_BATCH = 100; // events per request (the collector's limit)
  var MAX_BODY = 60000; // bytes per request: keepalive and beacons are capped at 64 KiB
  var MAX_EVENT = 8000; // bytes per event (the collector refuses events over 8 KiB)
  var MAX_QUEUE = 200;
  var MAX_URLS = 50;
  var MAX_BACKOFF_MS = 60000;
  var MAX_AGE_MS = 23 * 3600 * 1000; // the collector refuses events older than a day
  var REC_ATTR = /^([0-9a-f]{32}):([1-9][0-9]?|100)$/; // recommendation_id:position
  var REC_WAIT_MS = 10 * 60 * 1000; // a kept click whose page never loaded is forgotten

  if (!window || window.newslakeTracker) return; // loaded twice: the first copy reports

  var nav = window.navigator;
  var script = document.currentScript;
  var config = window.newslake || {};

  function setting(key, attr) {
    var value = config[key];
    if (value != null && value !== '') return value;
    var meta = document.querySelector('meta[name="newslake:' + attr + '"]');
    return (script && script.getAttribute('data-' + attr)) || (meta && meta.content) || null;
  }

  var endpoint = setting('endpoint', 'endpoint');
  var portal = setting('portal', 'portal');
  if (!endpoint || !portal) {
    if (window.console) console.warn('newslake: set window.newslake = {endpoint, portal}');
    return;
  }
  var consent = setting('consent', 'consent');
  var anonymous =
    consent === false ||
    consent === 'false' ||
    nav.doNotTrack === '1' ||
    window.doNotTrack === '1' ||
    nav.globalPrivacyControl === true;

  // ---- ids and storage ------------------------------------------------------------
  function uuid() {
    var crypto = window.crypto;
    if (crypto && crypto.randomUUID) return crypto.randomUUID(); // secure contexts only
    var b = new Uint8Array(16);
    var i;
    if (crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (i = 0; i < 16; i++) b[i] = Math.random() * 256;
    b[6] = (b[6] & 15) | 64; // version 4
    b[8] = (b[8] & 63) | 128; // RFC 4122 variant
    var hex = '';
    for (i = 0; i < 16; i++) {
      hex += (b[i] + 256).toString(16).slice(1) + (i === 3 || i === 5 || i === 7 || i === 9 ? '-' : '');
    }
    return hex;
  }

  var store = null;
  if (!anonymous) {
    try {
      store = window.localStorage;
      store.getItem(PREFIX); // throws where storage is blocked
    } catch (e) {
      store = null;
    }
  }
  function load(key) {
    try {
      return store && JSON.parse(store.getItem(PREFIX + key));
    } catch (e) {
      return null;
    }
  }
  function save(key, value) {
    try {
      if (store) store.setItem(PREFIX + key, JSON.stringify(value));
    } catch (e) {} // full or blocked: the tracker still works, with less memory
  }

  // A clicked recommendation waits for the next page in this tab only: sessionStorage,
  // per tab and per origin, so no other site can read it. Without it, nothing is kept.
  var tab = null;
  if (!anonymous) {
    try {
      tab = window.sessionStorage;
      tab.getItem(PREFIX);
    } catch (e) {
      tab = null;
    }
  }
  function takeRec() {
    var rec = null;
    try {
      rec = tab && JSON.parse(tab.getItem(PREFIX + 'rec'));
      if (tab) tab.removeItem(PREFIX + 'rec'); // the next page load only, whichever it is
    } catch (e) {}
    return rec && rec.to === location.origin + location.pathname && now() - rec.t < REC_WAIT_MS
      ? rec
      : null;
  }

  function anonymousId() {
    if (anonymous) return uuid();
    var match = document.cookie.match(new RegExp('(?:^|; )' + COOKIE + '=([^;]+)'));
    var id = load('uid') || (match && decodeURIComponent(match[1])) || uuid();
    save('uid', id);
    document.cookie =
      COOKIE + '=' + encodeURIComponent(id) + '; path=/; max-age=34560000; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
    return id;
  }

  var visitor = anonymousId();
  var loggedIn = null; // the page's logged-in reader, if any
  var articleId;

  function now() {
    return Date.now();
  }
  function cut(value, max) {
    return value == null ? null : String(value).slice(0, max);
  }
  function http(url) {
    return /^https?:/.test(url);
  }
  function bytes(text) {
    return new Blob([text]).size; // UTF-8 length
  }

  // ---- the visit ----------------------------------------------------------------
  var session, pageviewId, engagedMs, lastTick, lastActive, lastTouch, maxScroll, clicks, urls;
  var reported; // the engagement totals last sent for this visit
  var visible;

  function touchSession(t) {
    lastTouch = t;
    if (!anonymous) save('session', { id: session, last: t });
  }

  function startVisit() {
    // Read at DOMContentLoaded: the page may declare these after the script tag.
    if (!anonymous && loggedIn == null) loggedIn = setting('userId', 'user-id');
    articleId = setting('articleId', 'article-id');
    var t = now();
    var stored = !anonymous && load('session');
    session = stored && t - stored.last < SESSION_IDLE_MS ? stored.id : uuid();
    touchSession(t);
    pageviewId = uuid();
    visible = document.visibilityState !== 'hidden';
    engagedMs = maxScroll = clicks = 0;
    urls = [];
    lastTick = lastActive = t; // opening the page is the reader's first action
    measureScroll();
    reported = '0,' + maxScroll + ',0';
    enqueue(build('view', takeRec())); // with the recommendation that led here, if any
    flush();
  }

  // Engaged time: count [lastTick, now] while visible, up to ACTIVE_MS after the last action.
  function tick() {
    var t = now();
    var end = Math.min(t, lastActive + ACTIVE_MS);
    if (visible && end > lastTick) engagedMs += end - lastTick;
    lastTick = t;
  }

  function activity() {
    tick();
    lastActive = lastTick;
    var idle = lastActive - lastTouch;
    // Keep the session alive (at most one write a minute) unless it has already expired:
    // then this visit stays in it, and the next page load starts a new one.
    if (idle > 60000 && idle < SESSION_IDLE_MS) touchSession(lastActive);
  }

  function measureScroll() {
    var root = document.documentElement;
    var body = document.body;
    var height = Math.max(root.scrollHeight, body ? body.scrollHeight : 0);
    var seen = (window.pageYOffset || root.scrollTop || 0) + window.innerHeight;
    var depth = height > 0 ? Math.min(100, Math.round((seen / height) * 100)) : 100;
    if (depth > maxScroll) maxScroll = depth;
  }

  function build(type, rec) {
    var event = {
      event_id: uuid(),
      event_type: type,
      portal: cut(portal, 32),
      user_id: cut(loggedIn || visitor, 128),
      session_id: session,
      pageview_id: pageviewId,
      url: cut(location.href, 2048),
      referrer: http(document.referrer) ? cut(document.referrer, 2048) : null,
      article_id: cut(articleId, 128),
      dwell_ms: Math.min(Math.round(engagedMs), 86400000),
      scroll_depth: maxScroll,
      clicks: Math.min(clicks, 10000),
      clicked_urls: urls.slice(),
      client_ts: now(),
      rec_id: rec ? rec.id : null,
      rec_position: rec ? rec.pos : null
    };
    while (event.clicked_urls.length && bytes(JSON.stringify(event)) > MAX_EVENT) {
      event.clicked_urls.pop();
    }
    return event;
  }

  // ---- the queue and delivery -----------------------------------------------------
  var memory = []; // the queue when there is no storage (anonymous mode, storage blocked)
  var sending = null; // ids of the batch this page has in flight
  var attempt = 0;
  var timer = 0;

  function pending() {
    var oldest = now() - MAX_AGE_MS; // one refused event would get its whole batch refused
    return ((store ? load('queue') : memory) || []).filter(function (e) {
      return e.client_ts > oldest;
    });
  }
  function keep(queue) {
    queue = queue.slice(-MAX_QUEUE); // drop the oldest
    if (store) save('queue', queue);
    else memory = queue;
  }
  function enqueue(event) {
    var queue = pending();
    queue.push(event);
    keep(queue);
  }
  function drop(batch) {
    var done = {};
    for (var i = 0; i < batch.length; i++) done[batch[i].event_id] = 1;
    keep(
      pending().filter(function (e) {
        return !done[e.event_id];
      })
    );
  }
  function nextBatch() {
    var queue = pending();
    var batch = [];
    var size = 12;
    for (var i = 0; i < queue.length && batch.length < MAX_BATCH; i++) {
      if (sending && sending[queue[i].event_id]) continue;
      var n = bytes(JSON.stringify(queue[i])) + 1;
      if (batch.length && size + n > MAX_BODY) break;
      batch.push(queue[i]);
      size += n;
    }
    return batch;
  }
  function online() {
    return nav.onLine !== false;
  }
  function body(batch) {
    return JSON.stringify({ events: batch });
  }

  function flush() {
    if (sending || !online() || !window.fetch) return;
    var batch = nextBatch();
    if (!batch.length) return;
    sending = {};
    for (var i = 0; i < batch.length; i++) sending[batch[i].event_id] = 1;
    function done(delivered, retry) {
      sending = null;
      if (delivered || !retry) {
        drop(batch); // 4xx other than 429: the same request would be refused again
        attempt = 0;
        flush();
      } else {
        clearTimeout(timer);
        var delay = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, attempt++));
        timer = setTimeout(flush, delay * (0.5 + Math.random() / 2));
      }
    }
    // A string body goes as text/plain: a CORS-safelisted type, so no preflight request.
    window
      .fetch(endpoint, { method: 'POST', body: body(batch), keepalive: true, credentials: 'omit' })
      .then(
        function (response) {
          done(response.ok, response.status === 429 || response.status >= 500);
        },
        function () {
          done(false, true);
        }
      );
  }

  // Page hidden or left: report the engagement and hand the queue to the browser, which
  // sends beacons even after the page is gone.
  function totals(event) {
    return event.dwell_ms + ',' + event.scroll_depth + ',' + event.clicks;
  }

  function leave() {
    var event = build('engagement');
    if (totals(event) !== reported) {
      reported = totals(event);
      enqueue(event);
    }
    if (!online()) return; // stays queued until the browser is back online
    for (var n = 0, batch; n < 10 && (batch = nextBatch()).length; n++) {
      if (!nav.sendBeacon || !nav.sendBeacon(endpoint, body(batch))) return flush();
      drop(batch);
    }
  }

  function hide() {
    tick(); // the time until now counts as visible
    measureScroll();
    visible = false;
    leave();
  }

  // ---- listeners ----------------------------------------------------------------
  function on(target, type, listener) {
    target.addEventListener(type, listener, { capture: true, passive: true });
  }

  function click(e) {
    activity();
    var link = e.button < 2 && e.target && e.target.closest && e.target.closest('a[href]');
    if (link && http(link.href)) {
      clicks++;
      if (urls.length < MAX_URLS) urls.push(cut(link.href, 2048));
      recClick(e, link);
    }
  }

  // A click on a recommended link of this origin: reported now, with the recommendation,
  // and kept for the page it leads to when that page opens in this tab (a new tab starts
  // with an empty sessionStorage). Another origin's link keeps and sends nothing.
  function recClick(e, link) {
    var m = REC_ATTR.exec(link.getAttribute('data-newslake-rec') || '');
    if (!m || link.origin !== location.origin) return;
    var rec = { id: m[1], pos: +m[2], to: link.origin + link.pathname, t: now() };
    var event = build('engagement', rec);
    reported = totals(event);
    enqueue(event);
    var here = !e.button && !(e.ctrlKey || e.metaKey || e.shiftKey || e.altKey);
    try {
      if (tab && here && /^(_self|_top|_parent)?$/i.test(link.target)) {
        tab.setItem(PREFIX + 'rec', JSON.stringify(rec));
      }
    } catch (err) {}
    flush();
  }

  function begin() {
    if (!http(location.href)) return; // the collector takes http(s) pages only
    startVisit();
    ['mousemove', 'mousedown', 'keydown', 'wheel', 'touchstart', 'pointerdown'].forEach(
      function (type) {
        on(document, type, activity);
      }
    );
    on(window, 'scroll', function () {
      activity();
      measureScroll();
    });
    on(document, 'click', click);
    on(document, 'auxclick', click); // middle click: opened in a new tab
    on(document, 'visibilitychange', function () {
      if (document.visibilityState === 'hidden') return hide();
      tick(); // hidden until now: counts nothing
      visible = true;
      activity();
    });
    on(window, 'pagehide', hide);
    on(window, 'pageshow', function (e) {
      if (e.persisted) startVisit(); // back from the back/forward cache: a new visit
    });
    on(window, 'online', function () {
      clearTimeout(timer);
      attempt = 0;
      flush();
    });
  }

  window.newslakeTracker = {
    flush: flush,
    setUserId: function (id) {
      if (!anonymous) loggedIn = id || null;
    }
  };

  if (document.readyState === 'loading') on(document, 'DOMContentLoaded', begin);
  else begin();
})(typeof window !== 'undefined' ? window : null, typeof document !== 'undefined' ? document : null);
