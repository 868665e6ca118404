// common.js — helpers shared by hawk's pages: API access, units and
// human-readable numbers and times.
'use strict';

const hawk = (() => {
  // api fetches a Prometheus-style JSON endpoint relative to the page (so the
  // UI works behind a path prefix) and returns {data, serverTime, total}.
  // serverTime is the response's Date header in ms, or null; total is the
  // X-Total-Count header of a paged endpoint, or null.
  async function api(path, params, signal) {
    const url = new URL(path, document.baseURI);
    for (const [k, v] of Object.entries(params || {})) url.searchParams.set(k, v);
    const res = await fetch(url, {signal, headers: {Accept: 'application/json'}});
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      throw new Error(`${res.status} ${res.statusText || 'bad response'}`);
    }
    if (!body || body.status !== 'success') {
      throw new Error((body && body.error) || `${res.status} ${res.statusText}`);
    }
    const date = Date.parse(res.headers.get('Date') || '');
    const total = res.headers.get('X-Total-Count');
    return {data: body.data, serverTime: isNaN(date) ? null : date, total: total === null ? null : Number(total)};
  }

  // decimals returns how many decimals show a tick step exactly.
  function decimals(step) {
    for (let d = 0; d < 4; d++) {
      const s = step * Math.pow(10, d);
      if (Math.abs(s - Math.round(s)) < 1e-6 * Math.max(1, s)) return d;
    }
    return 4;
  }

  // num formats with about three significant digits.
  function num(v) {
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    if (a >= 0.01) return v.toFixed(2);
    return v.toPrecision(2);
  }

  const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

  function iecScale(maxAbs) {
    let k = 0;
    while (k < IEC.length - 1 && maxAbs >= Math.pow(1024, k + 1)) k++;
    return {div: Math.pow(1024, k), suffix: IEC[k]};
  }

  function bytes(v) {
    const s = iecScale(Math.abs(v));
    return `${num(v / s.div)} ${s.suffix}`;
  }

  function siScale(maxAbs) {
    if (maxAbs >= 1e9) return {div: 1e9, suffix: 'G'};
    if (maxAbs >= 1e6) return {div: 1e6, suffix: 'M'};
    if (maxAbs >= 1e4) return {div: 1e3, suffix: 'k'};
    return {div: 1, suffix: ''};
  }

  // units used by charts: scale picks a divisor for the axis from the largest
  // absolute value, tick formats an axis label (already divided), fmt formats
  // one raw value for the tooltip.
  const units = {
    number: {
      scale: siScale,
      tick: (v, s, step) => v.toFixed(decimals(step)) + s.suffix,
      fmt: (v) => {
        const s = siScale(Math.abs(v));
        return num(v / s.div) + s.suffix;
      },
    },
    percent: {
      scale: () => ({div: 1, suffix: '%'}),
      tick: (v, s, step) => v.toFixed(decimals(step)) + '%',
      fmt: (v) => v.toFixed(1) + ' %',
    },
    bytes: {
      scale: iecScale,
      tick: (v, s, step) => (v === 0 ? '0' : `${v.toFixed(decimals(step))} ${s.suffix}`),
      fmt: bytes,
    },
    'bytes/s': {
      scale: iecScale,
      tick: (v, s, step) => (v === 0 ? '0' : `${v.toFixed(decimals(step))} ${s.suffix}/s`),
      fmt: (v) => bytes(v) + '/s',
    },
  };

  // ago formats the time since ms (Unix ms) as of now (Unix ms).
  function ago(ms, now) {
    if (!ms || isNaN(ms)) return 'never';
    const s = Math.max(0, (now - ms) / 1000);
    if (s < 60) return `${Math.floor(s)} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }

  // seconds formats a signed duration given in seconds with a fitting unit.
  function seconds(v) {
    if (v === null || v === undefined || isNaN(v)) return '—';
    const a = Math.abs(v);
    const sign = v < 0 ? '−' : v > 0 ? '+' : '';
    if (a === 0) return '0 s';
    if (a < 1e-3) return `${sign}${(a * 1e6).toFixed(0)} µs`;
    if (a < 1) return `${sign}${(a * 1e3).toFixed(a < 0.01 ? 2 : 1)} ms`;
    return `${sign}${a.toFixed(a < 10 ? 2 : 1)} s`;
  }

  // promString quotes s as a PromQL string literal.
  function promString(s) {
    return '"' + String(s).replace(/\\/g, '\\\\').replace(/"/g, '\\"')
        .replace(/\n/g, '\\n') + '"';
  }

  return {api, units, num, bytes, ago, seconds, promString};
})();
