/* pcpr pages: progressive enhancement for the finder, copy buttons and the live-status widget.
 *
 * Safety rules (do not relax them): data from the feeds is only ever put in the page with
 * textContent or as a relative URL built from an already-encoded path segment; never innerHTML,
 * never inline handlers. The page's Content-Security-Policy allows only this file to run.
 */
(function () {
  'use strict';

  // Wording tables from pcpr_publish/render/words.py, inserted at build time.
  var WORDS = /*PCPR_WORDS*/null;
  var body = document.body;
  var ROOT = body.getAttribute('data-root') || '';

  function byId(id) { return document.getElementById(id); }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function siteUrl(path) {
    return new URL(ROOT + path, document.baseURI).href;
  }

  function json(response) {
    if (!response.ok) throw new Error('HTTP ' + response.status);
    return response.json();
  }

  function badge(text, cls) {
    var span = el('span', 'badge badge-' + cls);
    var icon = el('span', 'badge-icon');
    icon.setAttribute('aria-hidden', 'true');
    span.appendChild(icon);
    span.appendChild(document.createTextNode(text));
    return span;
  }

  /* 7.4 kW from tenths of a kW (the same rounding as words.format_kw). */
  function kw(tenths) {
    var text = (tenths / 10).toFixed(1);
    if (text.slice(-2) === '.0') text = text.slice(0, -2);
    return text + ' kW';
  }

  /* Availability in words: the same rule as html.availability(). */
  var BUSY = { CHARGING: true, RESERVED: true };
  function availability(statuses) {
    var total = statuses.length, available = 0, busy = 0, unknown = 0;
    statuses.forEach(function (s) {
      if (s === 'AVAILABLE') available++;
      if (BUSY[s]) busy++;
      if (WORDS.statuses[s] && WORDS.statuses[s][1] === 'unknown') unknown++;
    });
    if (available) return [available + ' of ' + total + ' available', 'ok'];
    if (total && busy === total) return ['All in use', 'busy'];
    if (unknown === total) return ['Availability unknown', 'unknown'];
    return ['None available now', 'down'];
  }

  /* ------------------------------------------------------------ absolute URLs and copying */

  function absoluteUrls() {
    var nodes = document.querySelectorAll('[data-abs]');
    for (var i = 0; i < nodes.length; i++) {
      nodes[i].textContent = siteUrl(nodes[i].getAttribute('data-abs'));
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(function () { return true; }, function () {
        return legacyCopy(text);
      });
    }
    return Promise.resolve(legacyCopy(text));
  }

  function legacyCopy(text) {
    var area = el('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    body.removeChild(area);
    return ok;
  }

  function copyButtons() {
    var buttons = document.querySelectorAll('button[data-copy]');
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.querySelector(button.getAttribute('data-copy'));
      if (!target) return;
      var label = button.firstChild;
      var status = el('span', 'copy-status');
      status.setAttribute('role', 'status');
      button.parentNode.insertBefore(status, button.nextSibling);
      button.hidden = false;
      var timer = null;
      button.addEventListener('click', function () {
        copyText(target.textContent).then(function (ok) {
          label.nodeValue = ok ? 'Copied' : 'Copy';
          status.textContent = ok ? ' Copied to the clipboard.' : ' Could not copy: select the text and copy it.';
          clearTimeout(timer);
          timer = setTimeout(function () { label.nodeValue = 'Copy'; status.textContent = ''; }, 4000);
        });
      });
    });
  }

  /* ------------------------------------------------------------ finder */

  function norm(text) {
    return String(text).toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
      .replace(/\s+/g, ' ').trim();
  }

  function setSelect(select, value) {
    if (value === null) return;
    for (var i = 0; i < select.options.length; i++) {
      if (select.options[i].value === value) { select.selectedIndex = i; return; }
    }
  }

  /* Pages opened straight from the disk (file://): browsers refuse their data requests. */
  var FROM_FILE = window.location.protocol === 'file:';

  /* "… run <code>pcpr serve site</code> and open the address it prints." */
  function serveHint(node, before, after) {
    node.appendChild(document.createTextNode(before));
    node.appendChild(el('code', null, 'pcpr serve site'));
    node.appendChild(document.createTextNode(after));
  }

  function finder() {
    var form = byId('finder');
    if (!form || !window.fetch || !window.URLSearchParams) return;
    var q = form.elements.q, type = form.elements.type, minkw = form.elements.minkw,
      avail = form.elements.available;
    var status = byId('finder-status'), search = byId('search'), browse = byId('browse');
    var list = byId('results'), more = byId('more');
    var filters = byId('filters'), filtersLabel = byId('filters-label');
    var PAGE = 50;
    var meta = null, rows = [], loadedChunks = 0, failed = false, shown = PAGE, matches = [];
    var availableIndex = -1;

    /* Search cannot work: say so, and leave the server-rendered list (every location, by town)
       exactly as it is without JavaScript. Never "No locations match" from missing data. */
    function unavailable(reason) {
      if (failed) return;
      failed = true;
      form.setAttribute('data-state', reason);
      form.hidden = true;
      search.hidden = true;
      browse.hidden = false;
      clear(status);
      status.className = 'finder-status finder-notice';
      if (reason === 'file') {
        serveHint(status, 'Search needs the site to be served over HTTP: browsers block it on ' +
          'pages opened from a file. Run ', ' (where site is the folder that holds this page) ' +
          'and open the address it prints. The list below shows every location.');
      } else {
        status.textContent = 'Search is unavailable: the location data could not be loaded. ' +
          'The list below shows every location.';
      }
    }

    if (FROM_FILE) { unavailable('file'); return; }
    form.hidden = false;
    form.setAttribute('data-state', 'loading');

    var params = new URLSearchParams(window.location.search);
    q.value = params.get('q') || '';
    setSelect(type, params.get('type'));
    setSelect(minkw, params.get('minkw'));
    avail.checked = params.get('available') === '1';

    /* Filters: open on wide screens; behind a "Filters" summary on phones, so the first
       results fit on the first screen. The summary says how many are set. */
    var wide = window.matchMedia ? window.matchMedia('(min-width: 40rem)') : null;
    function fitFilters() { if (!wide || wide.matches) filters.open = true; }
    function filtersText() {
      var n = (type.value ? 1 : 0) + (minkw.value ? 1 : 0) + (avail.checked ? 1 : 0);
      filtersLabel.textContent = n ? 'Filters (' + n + ' chosen)' : 'Filters';
    }
    fitFilters();
    filtersText();
    if (wide) {
      if (wide.addEventListener) wide.addEventListener('change', fitFilters);
      else if (wide.addListener) wide.addListener(fitFilters);
    }

    function active() {
      return q.value.trim() !== '' || type.value !== '' || minkw.value !== '' || avail.checked;
    }

    function syncUrl() {
      var p = new URLSearchParams();
      if (q.value.trim()) p.set('q', q.value.trim());
      if (type.value) p.set('type', type.value);
      if (minkw.value) p.set('minkw', minkw.value);
      if (avail.checked) p.set('available', '1');
      var query = p.toString();
      window.history.replaceState(null, '', query ? '?' + query : window.location.pathname);
    }

    function prepare(row) {
      // row: [url segment, name, address, city, postal code, price, evses]
      row.hay = norm(row[1] + ' ' + row[2] + ' ' + row[3] + ' ' + row[4]);
      row.postcode = norm(row[4]).replace(/ /g, '');
      return row;
    }

    function textMatches(row, terms, compact) {
      if (!terms.length) return true;
      if (compact.length >= 2 && row.postcode.indexOf(compact) === 0) return true;
      for (var i = 0; i < terms.length; i++) {
        if (row.hay.indexOf(terms[i]) === -1) return false;
      }
      return true;
    }

    function evseMatches(evse, typeIdx, minTenths, needAvailable) {
      if (needAvailable && evse[0] !== availableIndex) return false;
      for (var i = 1; i < evse.length; i += 2) {
        if ((typeIdx < 0 || evse[i] === typeIdx) && evse[i + 1] >= minTenths) return true;
      }
      return false;
    }

    function filter() {
      var text = norm(q.value);
      var terms = text ? text.split(' ') : [];
      var compact = text.replace(/ /g, '');
      var typeIdx = type.value ? meta.types.indexOf(type.value) : -1;
      var minTenths = minkw.value ? Number(minkw.value) * 10 : 0;
      var needAvailable = avail.checked;
      var checkEvses = typeIdx >= 0 || minTenths > 0 || needAvailable;
      var out = [];
      for (var r = 0; r < rows.length; r++) {
        var row = rows[r];
        if (!textMatches(row, terms, compact)) continue;
        if (checkEvses) {
          var ok = false;
          for (var e = 0; e < row[6].length && !ok; e++) {
            ok = evseMatches(row[6][e], typeIdx, minTenths, needAvailable);
          }
          if (!ok) continue;
        }
        out.push(row);
      }
      return out;
    }

    function resultItem(row) {
      var li = el('li', 'result');
      var head = el('div', 'result-head');
      var link = el('a', 'result-name', row[1]);
      link.setAttribute('href', 'locations/' + row[0] + '.html');
      head.appendChild(link);
      var statuses = [], types = {}, maxTenths = 0;
      row[6].forEach(function (evse) {
        statuses.push(meta.statuses[evse[0]][0]);
        for (var i = 1; i < evse.length; i += 2) {
          types[evse[i]] = true;
          if (evse[i + 1] > maxTenths) maxTenths = evse[i + 1];
        }
      });
      var a = availability(statuses);
      head.appendChild(badge(a[0], a[1]));
      li.appendChild(head);
      li.appendChild(el('p', 'result-address', row[2] + ', ' + row[3] + (row[4] ? ' ' + row[4] : '')));
      var labels = Object.keys(types).map(Number).sort(function (x, y) { return x - y; })
        .map(function (i) { return meta.types[i]; });
      li.appendChild(el('p', 'result-meta', labels.join(', ') + ' · up to ' + kw(maxTenths) + ' · ' + row[5]));
      return li;
    }

    function statusText() {
      var loading = meta && loadedChunks < meta.chunks.length;
      var n = matches.length;
      var text;
      if (!meta) return 'Loading the list of locations…';
      if (n === 0 && !loading) {
        text = 'No locations match. Try a town, a street or the first part of a postcode.';
      } else {
        text = n.toLocaleString('en-GB') + (n === 1 ? ' location matches' : ' locations match');
        if (n > shown) text += ', showing the first ' + Math.min(shown, n).toLocaleString('en-GB');
      }
      if (loading) {
        text += ' (searched ' + rows.length.toLocaleString('en-GB') + ' of ' +
          meta.count.toLocaleString('en-GB') + ' so far)';
      }
      return text;
    }

    function render() {
      clear(list);
      var limit = Math.min(shown, matches.length);
      var frag = document.createDocumentFragment();
      for (var i = 0; i < limit; i++) frag.appendChild(resultItem(matches[i]));
      list.appendChild(frag);
      more.hidden = matches.length <= limit;
    }

    function update(resetPaging) {
      if (failed) return;  // the notice and the plain list stay
      syncUrl();
      filtersText();
      if (!active()) {
        search.hidden = true;
        browse.hidden = false;
        status.textContent = '';
        return;
      }
      browse.hidden = true;
      search.hidden = false;
      if (resetPaging) shown = PAGE;
      if (!meta) { status.textContent = statusText(); return; }
      matches = filter();
      render();
      status.textContent = statusText();
    }

    var timer = null;
    q.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () { update(true); }, 120);
    });
    [type, minkw, avail].forEach(function (input) {
      input.addEventListener('change', function () { update(true); });
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      clearTimeout(timer);
      update(true);
    });
    more.addEventListener('click', function () {
      var first = shown;
      shown += PAGE;
      render();
      status.textContent = statusText();
      var items = list.querySelectorAll('.result-name');
      if (items[first]) items[first].focus();
    });

    if (active()) update(true);

    fetch(form.getAttribute('data-index'), { cache: 'no-cache' }).then(json).then(function (m) {
      if (!m || !m.chunks || !m.statuses || !m.types) throw new Error('not a finder index');
      meta = m;
      meta.statuses.forEach(function (s, i) { if (s[0] === 'AVAILABLE') availableIndex = i; });
      var loads = m.chunks.map(function (url) {
        var p = fetch(url, { cache: 'no-cache' }).then(json);
        p.catch(function () { /* reported by the chain below */ });
        return p;
      });
      var chain = Promise.resolve();
      loads.forEach(function (load) {
        chain = chain.then(function () { return load; }).then(function (chunk) {
          if (failed) return;
          chunk.rows.forEach(function (row) { rows.push(prepare(row)); });
          loadedChunks++;
          if (active()) update(false);
        });
      });
      if (!m.chunks.length && active()) update(false);
      return chain.then(function () { if (!failed) form.setAttribute('data-state', 'ready'); });
    }).catch(function () { unavailable('failed'); });
  }

  /* ------------------------------------------------------------ live-status widget */

  /* The id as the publisher stores it: Python's quote(id, safe=''). */
  function pyQuote(text) {
    return encodeURIComponent(text).replace(/[!'()*]/g, function (c) {
      return '%' + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  function powerTenths(c) {
    var watts = c.max_electric_power != null ? c.max_electric_power
      : c.max_voltage * c.max_amperage * (c.power_type === 'AC_3_PHASE' ? 3 : 1);
    return Math.round(watts / 100);
  }

  function timeWords(iso, zone) {
    var date = new Date(iso);
    var options = { day: 'numeric', month: 'long', hour: '2-digit', minute: '2-digit', hour12: false };
    try {
      return new Intl.DateTimeFormat('en-GB', Object.assign({ timeZone: zone }, options)).format(date);
    } catch (e) {
      return new Intl.DateTimeFormat('en-GB', Object.assign({ timeZone: 'UTC' }, options)).format(date) + ' UTC';
    }
  }

  /* Prices in words, the rule of pricing.summary_words: each entry is a tariff from
     embed/prices.json, [headline, free, [p/kWh incl. VAT, …]], in the order first met. */
  function priceSummary(entries) {
    if (!entries.length) return 'Price not published';
    var priced = entries.filter(function (t) { return !t[1]; });
    if (!priced.length) return 'Free to use';
    var seen = {}, pence = [], text;
    priced.forEach(function (t) {
      t[2].forEach(function (p) { if (!seen[p]) { seen[p] = true; pence.push(p); } });
    });
    pence.sort(function (a, b) { return Number(a) - Number(b); });
    if (!pence.length) text = priced[0][0];
    else if (pence.length === 1) text = pence[0] + 'p per kWh';
    else text = pence[0] + 'p to ' + pence[pence.length - 1] + 'p per kWh';
    return priced.length < entries.length ? 'Free on some chargers; ' + text + ' on others' : text;
  }

  /* A connector's tariff in prices.json: its first tariff id that is there (ids compared
     exactly, then ignoring case), like the location pages. */
  function tariffFinder(prices) {
    var exact = (prices && prices.tariffs) || {}, folded = {};
    Object.keys(exact).sort().forEach(function (id) {
      var key = id.toLowerCase();
      if (!(key in folded)) folded[key] = id;
    });
    return function (connector) {
      var ids = connector.tariff_ids || [];
      for (var i = 0; i < ids.length; i++) {
        var id = Object.prototype.hasOwnProperty.call(exact, ids[i]) ? ids[i] : folded[String(ids[i]).toLowerCase()];
        if (id !== undefined) return id;
      }
      return null;
    };
  }

  /* Tell the embedding page how tall this widget is, so that its frame can fit it (the embed
     snippet on the open-data page includes the few lines that listen). */
  function postHeight() {
    if (window.parent === window || !window.parent.postMessage) return;
    var last = 0;
    function post() {
      var height = Math.ceil(body.getBoundingClientRect().height);
      if (height > 0 && height !== last) {
        last = height;
        window.parent.postMessage({ pcprHeight: height }, '*');
      }
    }
    if (window.ResizeObserver) new window.ResizeObserver(post).observe(body);
    window.addEventListener('load', post);
    post();
  }

  /* On our own pages (the open-data page's preview), fit frames of our widgets the same way. */
  function fitFrames() {
    window.addEventListener('message', function (event) {
      var height = Number(event.data && event.data.pcprHeight);
      var frames = document.getElementsByTagName('iframe');
      for (var i = 0; i < frames.length; i++) {
        if (height > 0 && frames[i].contentWindow === event.source) {
          frames[i].style.height = Math.min(height, 5000) + 'px';
        }
      }
    });
  }

  function embedLocation() {
    var summary = byId('widget-summary'), widget = byId('widget'), price = byId('widget-price');
    if (!window.fetch || !window.URLSearchParams) return;
    var id = new URLSearchParams(window.location.search).get('location');
    if (FROM_FILE) {
      clear(summary);
      serveHint(summary, 'Live status needs the site to be served over HTTP: browsers block it ' +
        'on pages opened from a file. Run ', ' and open the address it prints.');
      widget.setAttribute('data-state', 'file');
      return;
    }
    if (!id) {
      summary.textContent = 'No location chosen: add ?location=<location id> to the address of this page.';
      widget.setAttribute('data-state', 'no-location');
      return;
    }
    var segment = encodeURIComponent(pyQuote(id));
    var url = ROOT + 'locations/' + segment + '.json';
    var link = byId('widget-link');
    var list = byId('widget-evses');
    var timer = null;

    function show(doc, prices) {
      var loc = doc.data;
      var zone = loc.time_zone || 'Europe/London';
      var tariffOf = tariffFinder(prices);
      link.setAttribute('href', ROOT + 'locations/' + segment + '.html');
      link.textContent = 'Details, prices and opening hours';
      byId('widget-name').textContent = loc.name || loc.address;
      var address = byId('widget-address');
      address.textContent = loc.address + ', ' + loc.city + (loc.postal_code ? ' ' + loc.postal_code : '');
      address.hidden = false;
      clear(list);
      var statuses = [], all = [], seen = {};
      (loc.evses || []).forEach(function (evse, n) {
        statuses.push(evse.status);
        var words = WORDS.statuses[evse.status] || WORDS.statuses.UNKNOWN;
        var li = el('li', 'widget-evse');
        var head = el('div', 'widget-evse-head');
        head.appendChild(el('span', null, 'Charger ' + (evse.physical_reference || String(n + 1))));
        head.appendChild(badge(words[0], words[1]));
        li.appendChild(head);
        var ids = [], own = {};
        var parts = evse.connectors.map(function (c) {
          var label = WORDS.labels[c.standard + '|' + c.format] || c.standard;
          var tid = prices ? tariffOf(c) : null;
          if (tid !== null && !own[tid]) { own[tid] = true; ids.push(tid); }
          if (tid !== null && !seen[tid]) { seen[tid] = true; all.push(tid); }
          return [label + ', ' + kw(powerTenths(c)), tid];
        });
        var shared = ids.length === 1 && parts.every(function (p) { return p[1] === ids[0]; });
        li.appendChild(el('p', 'widget-connectors', parts.map(function (p) {
          return p[0] + (prices && !shared ? ', ' + (p[1] === null ? 'price not published'
            : prices.tariffs[p[1]][0]) : '');
        }).join(' · ')));
        if (prices && shared) li.appendChild(el('p', 'widget-evse-price', prices.tariffs[ids[0]][0]));
        list.appendChild(li);
      });
      var a = availability(statuses);
      clear(summary);
      summary.appendChild(badge(a[0], a[1]));
      price.textContent = prices ? priceSummary(all.map(function (t) { return prices.tariffs[t]; }))
        : 'not available right now (see the details page)';
      price.parentNode.hidden = false;
      byId('widget-updated').textContent = 'Status as of ' + timeWords(doc.timestamp, zone);
      widget.setAttribute('data-state', 'ready');
    }

    function notFound() {
      clearInterval(timer);
      byId('widget-name').textContent = 'Location not found';
      summary.textContent = 'No location with id \u201c' + id + '\u201d is published here.';
      link.setAttribute('href', ROOT + 'index.html');
      link.textContent = 'Find a charge point';
      widget.setAttribute('data-state', 'not-found');
    }

    function load() {
      var prices = fetch(ROOT + price.getAttribute('data-prices'), { cache: 'no-cache' }).then(json)
        .then(function (p) { return p && p.tariffs ? p : null; }, function () { return null; });
      fetch(url, { cache: 'no-cache' }).then(function (response) {
        // S3 answers 403 for a key that is not there when listing is not allowed
        if (response.status === 404 || response.status === 403) return 'missing';
        return json(response);
      }).then(function (doc) {
        if (doc === 'missing') { notFound(); return; }
        if (!doc || !doc.data) throw new Error('not an OCPI location');
        return prices.then(function (p) { show(doc, p); });
      }).catch(function () {
        summary.textContent = 'Live status is not available for this location right now.';
        widget.setAttribute('data-state', 'failed');
      });
    }
    load();
    timer = setInterval(load, 30000);
  }

  /* ------------------------------------------------------------ start */

  absoluteUrls();
  copyButtons();
  var page = body.getAttribute('data-page');
  if (page === 'finder') finder();
  if (page === 'open-data') fitFrames();
  if (page === 'embed-location') embedLocation();
  if (page === 'embed-location' || page === 'embed-links') postHeight();
})();
