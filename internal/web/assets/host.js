// host.js — the host page: charts of one instance from /api/v1/query_range.
'use strict';

(() => {
  const RANGES = {'1h': 3600, '6h': 21600, '24h': 86400, '7d': 604800};
  // MAX_POINTS bounds the points per series: enough for a sharp line on a
  // wide screen, small enough that 24 h of one host is a few tens of KiB.
  const MAX_POINTS = 300;
  // SCRAPE_S is the coarsest push interval we expect from agents. Steps never
  // go below it (finer points would only repeat samples).
  const SCRAPE_S = 15;
  const STEPS = [15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800];
  const REFRESH_MS = 60000;
  // Pseudo and in-memory filesystems are not disks anyone runs out of.
  const FS_IGNORE = 'tmpfs|devtmpfs|ramfs|overlay|squashfs|nsfs|proc|sysfs|cgroup|cgroup2|' +
      'autofs|devpts|mqueue|hugetlbfs|debugfs|tracefs|securityfs|pstore|bpf|configfs|' +
      'fusectl|binfmt_misc|efivarfs|rpc_pipefs|fuse.lxcfs|fuse.portal|iso9660|nfsd';
  // Whole disks only: partitions would count their disk's bytes twice, and
  // RAM, loop and floppy devices are not disks (node_exporter's default
  // exclusion, in case the agent does not apply it).
  const DISK_IGNORE = '(z?ram|loop|fd)[0-9]+|(h|s|v|xv)d[a-z]+[0-9]+|nvme[0-9]+n[0-9]+p[0-9]+|mmcblk[0-9]+p[0-9]+';
  const CPU_COLORS = {user: '#5b9cf6', system: '#f2a93b', iowait: '#e5636b', nice: '#4cc38a',
    irq: '#a77ef0', softirq: '#45c2d6', steal: '#ff8a50', guest: '#e88ac0', guest_nice: '#c9c95b'};
  const CPU_ORDER = ['user', 'system', 'iowait', 'nice', 'irq', 'softirq', 'steal', 'guest', 'guest_nice'];

  // stepFor picks the smallest listed step that keeps the range within
  // MAX_POINTS points: 1 h → 15 s (240 points), 6 h → 2 min (180),
  // 24 h → 5 min (288), 7 d → 1 h (168).
  function stepFor(range) {
    return STEPS.find((s) => range / s <= MAX_POINTS) || Math.ceil(range / MAX_POINTS);
  }

  // rateWindow is max(step + scrape, 4 × scrape), the rule Grafana uses for
  // $__rate_interval. A window of at least step + one scrape interval makes
  // consecutive windows overlap by a sample, so every counter increase falls
  // in some window: a burst between two points is smoothed, never dropped
  // (with window < step, rate() would skip whatever happens between windows).
  // The 4 × scrape (60 s) floor keeps at least two samples in each window
  // even when a push is late or lost, so short ranges do not break into gaps.
  function rateWindow(step) {
    return Math.max(step + SCRAPE_S, 4 * SCRAPE_S);
  }

  const params = new URLSearchParams(location.search);
  const instance = params.get('instance') || '';
  let range = RANGES[params.get('range')] ? params.get('range') : '1h';
  const sel = 'instance=' + hawk.promString(instance);

  // Each chart issues one query; build turns the matrix into series.
  const CHARTS = [
    {
      id: 'cpu', title: 'CPU', sub: '% of all cores by mode (idle omitted)',
      opts: {unit: 'percent', stacked: true, max: 100, totalLabel: 'Busy'},
      query: (w) => `sum by (mode) (rate(node_cpu_seconds_total{${sel}}[${w}s]))`,
      build: buildCPU,
    },
    {
      id: 'load', title: 'Load average', sub: '1, 5 and 15 minutes',
      opts: {unit: 'number'},
      query: () => `{__name__=~"node_load(1|5|15)",${sel}}`,
      build: (res, grid) => res
          .map((r) => ({key: Number(r.metric.__name__.slice(9)), r}))
          .sort((a, b) => a.key - b.key)
          .map(({key, r}) => ({name: `${key} min`, values: grid.values(r)})),
    },
    {
      id: 'memory', title: 'Memory', sub: 'used and available',
      opts: {unit: 'bytes', stacked: true, totalLabel: 'Total'},
      query: () => `{__name__=~"node_memory_(MemTotal|MemAvailable)_bytes",${sel}}`,
      build: buildMemory,
    },
    {
      id: 'filesystem', title: 'Filesystem use', sub: '% of size, per mount point',
      opts: {unit: 'percent', max: 100},
      query: () => {
        const f = `${sel},fstype!~"${FS_IGNORE}"`;
        return `max by (mountpoint) (100 * (1 - node_filesystem_avail_bytes{${f}} / node_filesystem_size_bytes{${f}}))`;
      },
      build: (res, grid) => res
          .sort((a, b) => cmp(a.metric.mountpoint, b.metric.mountpoint))
          .map((r) => ({name: r.metric.mountpoint || '?', values: grid.values(r)})),
    },
    {
      id: 'disk', title: 'Disk I/O', sub: 'read ↑  written ↓, per device',
      opts: {unit: 'bytes/s', mirror: true, fill: true},
      query: (w) => twoWay('node_disk_read_bytes_total', 'node_disk_written_bytes_total',
          'read', 'written', `${sel},device!~"${DISK_IGNORE}"`, w),
      build: (res, grid) => buildTwoWay(res, grid, 'written'),
    },
    {
      id: 'network', title: 'Network', sub: 'received ↑  sent ↓, per interface',
      opts: {unit: 'bytes/s', mirror: true, fill: true},
      query: (w) => twoWay('node_network_receive_bytes_total', 'node_network_transmit_bytes_total',
          'received', 'sent', `${sel},device!="lo"`, w),
      build: (res, grid) => buildTwoWay(res, grid, 'sent'),
    },
  ];

  function cmp(a, b) {
    return String(a || '').localeCompare(String(b || ''), undefined, {numeric: true});
  }

  // twoWay asks for two per-device rates in one query, told apart by a "dir"
  // label (rate() drops the metric name, so without it the two would clash).
  function twoWay(up, down, upName, downName, s, w) {
    const part = (m, d) => `label_replace(sum by (device) (rate(${m}{${s}}[${w}s])), "dir", "${d}", "device", ".*")`;
    return `${part(up, upName)} or ${part(down, downName)}`;
  }

  function buildTwoWay(res, grid, downName) {
    return res
        .sort((a, b) => cmp(a.metric.device, b.metric.device) || cmp(a.metric.dir, b.metric.dir))
        .map((r) => ({
          name: `${r.metric.device || '?'} ${r.metric.dir || ''}`.trim(),
          group: r.metric.device || '?',
          neg: r.metric.dir === downName,
          values: grid.values(r),
        }));
  }

  // buildCPU turns per-mode rates (cores busy in each mode) into percent of
  // all cores: the sum over every mode, idle included, is the number of cores.
  function buildCPU(res, grid) {
    const modes = res.map((r) => ({mode: r.metric.mode || '?', values: grid.values(r)}));
    const n = grid.times.length;
    const total = new Array(n).fill(0);
    for (const m of modes) m.values.forEach((v, i) => { if (v !== null) total[i] += v; });
    const rank = (m) => (CPU_ORDER.includes(m) ? CPU_ORDER.indexOf(m) : 100);
    return modes
        .filter((m) => m.mode !== 'idle')
        .sort((a, b) => rank(a.mode) - rank(b.mode) || cmp(a.mode, b.mode))
        .map((m) => ({
          name: m.mode,
          color: CPU_COLORS[m.mode],
          values: m.values.map((v, i) => (v === null || total[i] <= 0 ? null : (100 * v) / total[i])),
        }));
  }

  function buildMemory(res, grid) {
    const by = {};
    for (const r of res) by[r.metric.__name__] = grid.values(r);
    const total = by.node_memory_MemTotal_bytes;
    const avail = by.node_memory_MemAvailable_bytes;
    if (!total || !avail) return [];
    const used = total.map((t, i) => (t === null || avail[i] === null ? null : Math.max(0, t - avail[i])));
    return [{name: 'used', values: used, color: '#5b9cf6'},
      {name: 'available', values: avail, color: '#4cc38a'}];
  }

  // Grid maps Prometheus [time, "value"] pairs onto the query's regular time
  // grid, so series with missing points stay aligned and gaps become null.
  class Grid {
    constructor(start, end, step) {
      this.start = start;
      this.step = step;
      const n = Math.floor((end - start) / step) + 1;
      this.times = Array.from({length: n}, (_, i) => start + i * step);
    }
    values(r) {
      const out = new Array(this.times.length).fill(null);
      for (const [t, s] of r.values || []) {
        const i = Math.round((t - this.start) / this.step);
        const v = parseFloat(s); // "NaN", "+Inf" and garbage become gaps
        if (i >= 0 && i < out.length && isFinite(v)) out[i] = v;
      }
      return out;
    }
  }

  const els = {}; // chart id → {section, plot}
  function layout() {
    const box = document.getElementById('charts');
    for (const c of CHARTS) {
      const section = document.createElement('section');
      section.className = 'chart panel';
      section.dataset.chart = c.id;
      section.dataset.state = 'loading';
      const head = document.createElement('div');
      head.className = 'chart-head';
      const h2 = document.createElement('h2');
      h2.textContent = c.title;
      const sub = document.createElement('span');
      sub.className = 'chart-sub';
      sub.textContent = c.sub;
      head.append(h2, sub);
      const body = document.createElement('div');
      section.append(head, body);
      box.append(section);
      els[c.id] = {section, plot: new Plot(body, c.opts)};
    }
  }

  let controller = null; // aborts the fetches of a superseded load
  let runStart = 0; // performance.now() when the current load began

  // load fetches every chart in parallel. Each chart is drawn as soon as its
  // own data arrives; the page is marked ready when all have settled.
  async function load(quiet) {
    if (controller) controller.abort();
    controller = new AbortController();
    const signal = controller.signal;
    if (!quiet) {
      runStart = performance.now();
      delete document.body.dataset.ready;
      for (const c of CHARTS) els[c.id].section.dataset.state = 'loading';
    }
    const span = RANGES[range];
    const step = stepFor(span);
    const w = rateWindow(step);
    const end = Math.floor(Date.now() / 1000);
    const start = end - span;
    const grid = new Grid(start, end, step);
    const jobs = CHARTS.map(async (c) => {
      const {section, plot} = els[c.id];
      const query = c.query(w);
      section.dataset.query = query;
      try {
        const {data} = await hawk.api('api/v1/query_range', {query, start, end, step}, signal);
        const series = c.build((data && data.result) || [], grid);
        const points = plot.setData(grid.times, series);
        plot.showMessage(points === 0 ? 'No data' : '');
        section.dataset.points = String(points);
        section.dataset.state = 'ready';
        delete section.dataset.error;
      } catch (e) {
        if (signal.aborted) return;
        plot.showMessage('Query failed: ' + e.message);
        section.dataset.state = 'error';
        section.dataset.error = e.message;
      }
      if (!quiet) section.dataset.ms = String(Math.round(performance.now() - runStart));
    });
    await Promise.all(jobs);
    if (signal.aborted || quiet) return;
    document.body.dataset.ms = String(Math.round(performance.now() - runStart));
    document.body.dataset.ready = 'true';
    document.getElementById('updated').textContent =
        `step ${step} s · rate window ${w} s · ${document.body.dataset.ms} ms`;
  }

  async function loadMeta() {
    const meta = document.getElementById('host-meta');
    try {
      const {data} = await hawk.api('api/v1/agents', {match: instance, limit: 100});
      const a = (data || []).find((x) => x.instance === instance) ||
          (data || []).find((x) => x.hostname === instance);
      meta.replaceChildren();
      if (!a) {
        meta.textContent = 'not currently known to the server';
        return;
      }
      const up = typeof a.up === 'boolean' ? a.up : a.connected === true;
      const badge = document.createElement('span');
      badge.className = 'badge ' + (up ? 'ok' : 'bad');
      badge.textContent = up ? 'up' : 'down';
      const seen = Date.parse(a.last_seen || '');
      const bits = [
        a.hostname && a.hostname !== instance ? `host ${a.hostname}` : '',
        a.version ? `version ${a.version}` : '',
        a.protocol || '',
        a.remote_addr || '',
        `last seen ${hawk.ago(isNaN(seen) ? 0 : seen, Date.now())}`,
        ...Object.entries(a.labels || {})
            .filter(([k]) => k !== 'instance' && k !== 'job')
            .map(([k, v]) => `${k}=${v}`),
      ].filter(Boolean);
      const text = document.createElement('span');
      text.textContent = bits.join(' · ');
      meta.append(badge, text);
      if (!up) meta.append(forgetButton(a));
      loadOutages(a);
    } catch (e) {
      meta.textContent = '';
    }
  }

  // forgetButton removes a down agent from the fleet (DELETE
  // /api/v1/agents/<id>); the server refuses a connected one.
  function forgetButton(a) {
    const b = document.createElement('button');
    b.type = 'button';
    b.id = 'forget';
    b.className = 'forget';
    b.textContent = 'Forget';
    b.title = 'Remove this agent from the fleet: it is no longer listed and its up series ends';
    b.addEventListener('click', async () => {
      if (!confirm(`Forget ${a.hostname || a.agent_id}? It is listed again if it ever reconnects.`)) return;
      const url = new URL('api/v1/agents/' + encodeURIComponent(a.agent_id), document.baseURI);
      const res = await fetch(url, {method: 'DELETE', headers: {Accept: 'application/json'}});
      let body = null;
      try {
        body = await res.json();
      } catch (e) { /* reported below */ }
      b.disabled = true;
      b.textContent = res.ok ? 'Forgotten' : `Not forgotten: ${(body && body.error) || res.status}`;
    });
    return b;
  }

  // loadOutages draws the agent's outages as bands on every chart, labelled
  // with their cause.
  async function loadOutages(a) {
    try {
      const {data} = await hawk.api('api/v1/agents/' + encodeURIComponent(a.agent_id) + '/outages');
      const bands = (data || []).map((o) => ({
        start: Date.parse(o.start) / 1000, end: Date.parse(o.end) / 1000, label: o.cause,
      })).filter((b) => !isNaN(b.start) && !isNaN(b.end));
      for (const c of CHARTS) els[c.id].plot.setBands(bands);
      document.getElementById('charts').dataset.outages = String(bands.length);
    } catch (e) { /* no outages shown */ }
  }

  // The host's firing alerts (alerts.js sends them every 5 s) are marked on
  // every chart at the time each became active.
  document.addEventListener('hawk:alerts', (e) => {
    const marks = (e.detail || []).filter(([t]) => !isNaN(t)).map(([t, name]) => ({t: t / 1000, label: name}));
    for (const c of CHARTS) if (els[c.id]) els[c.id].plot.setMarks(marks);
    document.getElementById('charts').dataset.alerts = String(marks.length);
  });

  function selectRange(r) {
    range = r;
    for (const b of document.querySelectorAll('#ranges button')) {
      b.setAttribute('aria-pressed', String(b.dataset.range === r));
    }
    const p = new URLSearchParams(location.search);
    p.set('range', r);
    history.replaceState(null, '', '?' + p.toString());
  }

  document.getElementById('host-name').textContent = instance || 'No host selected';
  document.getElementById('crumb').textContent = instance ? ` / ${instance}` : '';
  document.title = `${instance} · ${document.title}`;
  for (const b of document.querySelectorAll('#ranges button')) {
    b.addEventListener('click', () => {
      selectRange(b.dataset.range);
      load(false);
    });
  }
  selectRange(range);
  if (!instance) {
    const banner = document.getElementById('error');
    banner.textContent = 'No instance given: open a host from the fleet page.';
    banner.hidden = false;
    document.body.dataset.ready = 'true';
    return;
  }
  layout();
  load(false);
  loadMeta();
  // Refresh quietly; skip while the tab is hidden. The interval is owned by
  // the page and dies with it.
  setInterval(() => {
    if (!document.hidden) {
      load(true);
      loadMeta();
    }
  }, REFRESH_MS);
})();
