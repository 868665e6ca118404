// fleet.js — the fleet page: every agent and legacy peer from
// /api/v1/agents, sortable, filterable and refreshed every few seconds.
// The server pages the fleet (PAGE rows at a time, X-Total-Count gives the
// total): with 100,000 agents the page fetches and draws 500 rows, and the
// summary counts come from the totals, not from the rows.
'use strict';

(() => {
  const REFRESH_MS = 5000;
  const PAGE = 500; // rows fetched at a time
  const CLOCK_WARN_S = 1; // clock offsets beyond this are highlighted
  const table = document.getElementById('fleet');
  const tbody = table.tBodies[0];
  const filterBox = document.getElementById('filter');
  const downFirst = document.getElementById('down-first');
  const params = new URLSearchParams(location.search);
  const state = {
    agents: [], // last list received
    skew: 0, // server clock minus browser clock, ms (from the Date header)
    fetchedAt: 0, // browser time of the last successful fetch, ms
    sortKey: params.get('sort') || 'hostname',
    sortDesc: params.get('desc') === '1',
    first: true, // no list drawn yet: readiness and render time pending
    page: 0, // page of PAGE rows shown
    total: 0, // agents in the whole fleet (X-Total-Count)
    downTotal: null, // agents down in the whole fleet, when it spans pages
  };
  filterBox.value = params.get('q') || '';
  downFirst.checked = params.get('downfirst') !== '0';

  // isUp treats a missing "up" as the connection state, and unknown as down.
  const isUp = (a) => (typeof a.up === 'boolean' ? a.up : a.connected === true);
  const host = (a) => a.hostname || a.instance || a.agent_id || a.remote_addr || '?';
  const seenMs = (a) => {
    const t = Date.parse(a.last_seen || '');
    return isNaN(t) || t <= 0 ? 0 : t;
  };
  // The server repeats instance and job among the labels; the table shows
  // the instance already and job is the same for every agent, so the chips
  // leave both out (the filter still sees them).
  const chipLabels = (a) => Object.entries(a.labels || {})
      .filter(([k]) => k !== 'instance' && k !== 'job')
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  const labelText = (a) => Object.entries(a.labels || {})
      .sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`).join(' ');

  // sortValue maps a column to a comparable value; missing numbers sort last.
  function sortValue(a, key) {
    switch (key) {
      case 'hostname': return host(a).toLowerCase();
      case 'up': return isUp(a) ? 1 : 0;
      case 'last_seen': return seenMs(a);
      case 'labels': return chipLabels(a).map(([k, v]) => `${k}=${v}`).join(' ');
      case 'clock_offset_seconds':
      case 'rtt_seconds':
      case 'samples_per_second': {
        const v = a[key];
        return typeof v === 'number' ? (key === 'clock_offset_seconds' ? Math.abs(v) : v) : null;
      }
      default: return String(a[key] || '').toLowerCase();
    }
  }

  function compare(a, b) {
    if (downFirst.checked && isUp(a) !== isUp(b)) return isUp(a) ? 1 : -1;
    const x = sortValue(a, state.sortKey);
    const y = sortValue(b, state.sortKey);
    let c = 0;
    if (x === null || y === null) c = x === y ? 0 : x === null ? 1 : -1;
    else c = x < y ? -1 : x > y ? 1 : 0;
    if (state.sortDesc && x !== null && y !== null) c = -c;
    if (c === 0) c = host(a).localeCompare(host(b), undefined, {numeric: true});
    return c;
  }

  // matches applies the filter: every word must occur somewhere in the row.
  function matches(a, words) {
    if (words.length === 0) return true;
    const hay = [host(a), a.instance, a.agent_id, a.version, a.protocol,
      a.remote_addr, labelText(a), isUp(a) ? 'up' : 'down']
        .filter(Boolean).join(' ').toLowerCase();
    return words.every((w) => hay.includes(w));
  }

  function cell(tr, text, cls) {
    const td = tr.insertCell();
    if (cls) td.className = cls;
    if (text !== undefined) td.textContent = text;
    return td;
  }

  function row(a, now) {
    const tr = document.createElement('tr');
    const up = isUp(a);
    tr.className = up ? 'up' : 'down';
    tr.dataset.host = host(a);
    tr.dataset.status = up ? 'up' : 'down';
    const name = cell(tr, undefined, 'host');
    const link = document.createElement('a');
    link.href = 'host?instance=' + encodeURIComponent(a.instance || host(a));
    link.textContent = host(a);
    name.append(link);
    if (a.instance && a.instance !== host(a)) {
      const sub = document.createElement('span');
      sub.className = 'sub';
      sub.textContent = a.instance;
      name.append(sub);
    }
    const st = cell(tr, undefined, 'status');
    const badge = document.createElement('span');
    badge.className = 'badge ' + (up ? 'ok' : 'bad');
    badge.textContent = up ? 'up' : 'down';
    st.append(badge);
    hawkAlerts.badge(st, a.instance);
    const seen = cell(tr, hawk.ago(seenMs(a), now), 'num seen');
    seen.dataset.ms = String(seenMs(a));
    if (a.last_seen) seen.title = a.last_seen;
    cell(tr, a.version || '—', a.version ? 'mono' : 'mono dim');
    cell(tr, a.protocol || '—', a.protocol === 'legacy' ? 'dim' : '');
    const off = a.clock_offset_seconds;
    const warn = typeof off === 'number' && Math.abs(off) > CLOCK_WARN_S;
    cell(tr, hawk.seconds(off), 'num' + (warn ? ' warn' : ''));
    cell(tr, hawk.seconds(a.rtt_seconds).replace('+', ''), 'num');
    const sps = a.samples_per_second;
    cell(tr, typeof sps === 'number' ? sps.toFixed(1) : '—', 'num');
    cell(tr, a.remote_addr || '—', 'mono dim');
    const lab = cell(tr, undefined, 'labels');
    for (const [k, v] of chipLabels(a)) {
      const chip = document.createElement('span');
      chip.className = 'chip';
      chip.textContent = `${k}=${v}`;
      lab.append(chip);
    }
    return tr;
  }

  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

  function render() {
    const now = Date.now() + state.skew;
    const words = filterBox.value.toLowerCase().split(/\s+/).filter(Boolean);
    const list = state.agents.filter((a) => matches(a, words)).sort(compare);
    tbody.replaceChildren(...list.map((a) => row(a, now)));
    table.dataset.rows = String(list.length);
    for (const th of table.tHead.rows[0].cells) {
      const on = th.dataset.key === state.sortKey;
      th.setAttribute('aria-sort', on ? (state.sortDesc ? 'descending' : 'ascending') : 'none');
    }
    const total = state.agents.length;
    document.getElementById('count').textContent =
        list.length === total ? plural(total, 'host') : `${list.length} of ${plural(total, 'host')}`;
    const empty = document.getElementById('empty');
    empty.hidden = list.length > 0;
    empty.textContent = total === 0 ? 'No agents have connected yet.' : 'No host matches the filter.';
    renderSummary();
  }

  function renderPager() {
    const pages = Math.max(1, Math.ceil(state.total / PAGE));
    document.getElementById('pager').hidden = pages <= 1;
    const lo = state.page * PAGE;
    document.getElementById('page-info').textContent =
        `${lo + 1}–${lo + state.agents.length} of ${state.total}`;
    document.getElementById('page-prev').disabled = state.page === 0;
    document.getElementById('page-next').disabled = state.page >= pages - 1;
  }

  function renderSummary() {
    renderPager();
    if (state.downTotal !== null) { // the fleet spans pages: counts from the totals
      document.getElementById('sum-total').textContent = String(state.total);
      document.getElementById('sum-up').textContent = String(state.total - state.downTotal);
      document.getElementById('sum-down').textContent = String(state.downTotal);
      document.getElementById('sum-legacy').textContent = '–';
      document.getElementById('sum-rate').textContent = '–';
      document.getElementById('summary').classList.toggle('has-down', state.downTotal > 0);
      return;
    }
    const up = state.agents.filter(isUp).length;
    const rate = state.agents.reduce((s, a) => s + (a.samples_per_second || 0), 0);
    document.getElementById('sum-total').textContent = String(state.agents.length);
    document.getElementById('sum-up').textContent = String(up);
    document.getElementById('sum-down').textContent = String(state.agents.length - up);
    document.getElementById('sum-legacy').textContent =
        String(state.agents.filter((a) => a.protocol === 'legacy').length);
    document.getElementById('sum-rate').textContent = hawk.num(rate);
    document.getElementById('summary').classList.toggle('has-down', up < state.agents.length);
  }

  // tick refreshes the relative times without rebuilding the table.
  function tick() {
    const now = Date.now() + state.skew;
    for (const td of tbody.querySelectorAll('td.seen')) {
      td.textContent = hawk.ago(Number(td.dataset.ms), now);
    }
    if (state.fetchedAt) {
      document.getElementById('updated').textContent =
          'updated ' + hawk.ago(state.fetchedAt, Date.now());
    }
  }

  function saveURL() {
    const p = new URLSearchParams();
    if (state.sortKey !== 'hostname') p.set('sort', state.sortKey);
    if (state.sortDesc) p.set('desc', '1');
    if (filterBox.value) p.set('q', filterBox.value);
    if (!downFirst.checked) p.set('downfirst', '0');
    const qs = p.toString();
    history.replaceState(null, '', qs ? '?' + qs : location.pathname);
  }

  // loadStorage shows what the server's storage reports: refusing samples
  // (a failed WAL write, e.g. a full disk) or WAL damage found at start.
  async function loadStorage() {
    const box = document.getElementById('storage');
    let st;
    try {
      st = (await hawk.api('api/v1/status/storage')).data;
    } catch (e) {
      return; // an older server, or the agents' banner says why
    }
    const lines = [];
    if (st && st.accepting === false) {
      const since = Date.parse(st.fault_since || '');
      lines.push(`Storage is refusing samples${isNaN(since) ? '' : ' since ' + new Date(since).toLocaleString()}` +
          ` (${st.fault || 'WAL write failed'}). Agents keep their data and retry; free space on the data disk` +
          ' (docs/operations.md, "When the disk fills").');
    }
    const w = (st && st.wal) || {};
    const damaged = w.damaged_segments || [];
    if (damaged.length > 0) {
      lines.push(`WAL damage found at start: ${damaged.length} segment${damaged.length === 1 ? '' : 's'}` +
          ` (${damaged.join(', ')}); ${w.kept_records || 0} intact records kept, ${w.lost_records || 0} lost.` +
          (w.damaged_dir ? ` The originals are kept in ${w.damaged_dir}.` : ''));
    }
    box.replaceChildren(...lines.map((l) => {
      const p = document.createElement('div');
      p.textContent = l;
      return p;
    }));
    box.hidden = lines.length === 0;
    box.dataset.state = st && st.accepting === false ? 'refusing' : (damaged.length > 0 ? 'damaged' : 'ok');
  }

  async function load() {
    loadStorage();
    const banner = document.getElementById('error');
    try {
      const {data, serverTime, total} = await hawk.api('api/v1/agents', {limit: PAGE, offset: state.page * PAGE});
      await hawkAlerts.refresh();
      state.agents = Array.isArray(data) ? data : [];
      state.total = total === null ? state.agents.length : total;
      state.downTotal = null;
      if (state.total > state.agents.length) {
        state.downTotal = (await hawk.api('api/v1/agents', {limit: 1, down: 'true'})).total;
      }
      state.fetchedAt = Date.now();
      // The Date header has 1 s resolution; ignore skews it cannot resolve.
      const skew = serverTime === null ? 0 : serverTime - state.fetchedAt;
      state.skew = Math.abs(skew) > 2000 ? skew : 0;
      banner.hidden = true;
      render();
    } catch (e) {
      banner.textContent = `Cannot load agents: ${e.message}. Retrying every ${REFRESH_MS / 1000} s.`;
      banner.hidden = false;
      table.dataset.error = e.message;
    }
    tick();
    if (state.first) {
      state.first = false;
      table.dataset.state = 'ready';
      table.dataset.ms = String(Math.round(performance.now()));
      document.body.dataset.ms = table.dataset.ms;
      document.body.dataset.ready = 'true';
    }
  }

  for (const th of table.tHead.rows[0].cells) {
    th.tabIndex = 0;
    const sort = () => {
      if (state.sortKey === th.dataset.key) state.sortDesc = !state.sortDesc;
      else {
        state.sortKey = th.dataset.key;
        state.sortDesc = false;
      }
      saveURL();
      render();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        sort();
      }
    });
  }
  filterBox.addEventListener('input', () => {
    saveURL();
    render();
  });
  for (const [id, step] of [['page-prev', -1], ['page-next', 1]]) {
    document.getElementById(id).addEventListener('click', () => {
      state.page = Math.max(0, state.page + step);
      load();
    });
  }
  downFirst.addEventListener('change', () => {
    saveURL();
    render();
  });

  // One timer chain owns the refresh: the next fetch is scheduled only after
  // the previous one finished, so a slow server never sees overlapping polls.
  // A hidden tab skips its polls, and catches up as soon as it is shown.
  async function loop() {
    if (!document.hidden || state.first) await load();
    setTimeout(loop, REFRESH_MS);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && Date.now() - state.fetchedAt > REFRESH_MS) load();
  });
  setInterval(tick, 1000);
  loop();
})();
