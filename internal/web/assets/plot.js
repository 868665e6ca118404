// plot.js — hawk's small time-series chart on <canvas>.
//
//   const p = new Plot(container, {unit: 'bytes', stacked: true, max: 100});
//   p.setData(times, [{name: 'user', values: [...], group: 'user'}, ...]);
//
// times are Unix seconds on a regular grid; values hold numbers or null (a
// gap). Series with neg: true are drawn below the zero line (mirror charts such
// as read ↑ / written ↓); their tooltip values stay positive. Series sharing a
// group share a colour and one legend entry, which toggles them together.
// Drawing uses two stacked canvases: the data layer is redrawn on data, resize
// and legend changes; the overlay holds only the hover crosshair, so moving the
// mouse never redraws the data.
'use strict';

const Plot = (() => {
  const PALETTE = ['#5b9cf6', '#f2a93b', '#4cc38a', '#e5636b', '#a77ef0',
    '#45c2d6', '#e88ac0', '#c9c95b', '#8f9bb3', '#ff8a50', '#6bd1a8', '#d9a3ff'];
  const HEIGHT = 220;
  const PAD = {top: 10, right: 14, bottom: 24};
  const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
    43200, 86400, 172800, 604800];

  // niceStep returns a 1-2-2.5-5 × 10^k step so that span/step ≈ target.
  function niceStep(span, target) {
    const raw = span / Math.max(1, target);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) {
      if (m * mag >= raw) return m * mag;
    }
    return 10 * mag;
  }

  // niceTicks covers [lo, hi] (already in display units) with nice ticks and
  // returns the widened bounds too.
  function niceTicks(lo, hi, target) {
    const step = niceStep(hi - lo, target);
    const min = Math.floor(lo / step + 1e-9) * step;
    const max = Math.ceil(hi / step - 1e-9) * step;
    const ticks = [];
    for (let v = min, i = 0; v <= max + step / 2 && i < 50; v += step, i++) {
      ticks.push(Math.abs(v) < step / 1e6 ? 0 : v);
    }
    return {min, max, step, ticks};
  }

  // localOffset is the number of seconds to add to a Unix time to get local
  // wall-clock seconds, so time ticks fall on local hours and midnights.
  function localOffset(t) {
    return -new Date(t * 1000).getTimezoneOffset() * 60;
  }

  function timeTicks(start, end, width) {
    const maxTicks = Math.max(2, Math.floor(width / 90));
    const step = TIME_STEPS.find((s) => (end - start) / s <= maxTicks) ||
      TIME_STEPS[TIME_STEPS.length - 1];
    const off = localOffset(start);
    const ticks = [];
    let t = Math.ceil((start + off) / step) * step - off;
    for (let i = 0; t <= end && i < 100; t += step, i++) {
      // Re-align across a daylight-saving change.
      ticks.push(t + off - localOffset(t));
    }
    return {step, ticks};
  }

  const two = (n) => String(n).padStart(2, '0');
  const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug',
    'Sep', 'Oct', 'Nov', 'Dec'];

  function timeLabel(t, step) {
    const d = new Date(t * 1000);
    const midnight = d.getHours() === 0 && d.getMinutes() === 0;
    if (step >= 86400 || midnight) return `${DAYS[d.getDay()]} ${d.getDate()}`;
    return `${two(d.getHours())}:${two(d.getMinutes())}`;
  }

  function fullTime(t) {
    const d = new Date(t * 1000);
    return `${DAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ` +
      `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  }

  function cssVar(name, fallback) {
    const v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return v.trim() || fallback;
  }

  class Plot {
    constructor(container, opts) {
      this.opts = Object.assign({unit: 'number', stacked: false}, opts);
      this.unit = hawk.units[this.opts.unit] || hawk.units.number;
      this.el = container;
      this.el.classList.add('plot');
      this.area = document.createElement('div');
      this.area.className = 'plot-area';
      this.area.style.height = HEIGHT + 'px';
      this.base = document.createElement('canvas');
      this.over = document.createElement('canvas');
      this.over.className = 'plot-overlay';
      this.tip = document.createElement('div');
      this.tip.className = 'plot-tip';
      this.tip.hidden = true;
      this.msg = document.createElement('div');
      this.msg.className = 'plot-msg';
      this.msg.hidden = true;
      this.legend = document.createElement('div');
      this.legend.className = 'plot-legend';
      this.area.append(this.base, this.over, this.tip, this.msg);
      this.el.append(this.area, this.legend);
      this.times = [];
      this.series = [];
      this.bands = []; // outage bands: {start, end, label}, Unix seconds
      this.marks = []; // firing alerts: {t, label}, Unix seconds they became active
      this.hidden = new Set(); // groups switched off in the legend
      this.hoverX = null; // last mouse x over the plot, CSS px, or null
      this.over.addEventListener('mousemove', (e) => {
        this.hoverX = e.offsetX;
        this.drawOverlay();
      });
      this.over.addEventListener('mouseleave', () => {
        this.hoverX = null;
        this.drawOverlay();
      });
      let pending = false;
      this.resizer = new ResizeObserver(() => {
        if (pending) return;
        pending = true;
        requestAnimationFrame(() => {
          pending = false;
          if (this.width !== this.area.clientWidth) this.draw();
        });
      });
      this.resizer.observe(this.area);
    }

    // setData replaces the data and redraws. It returns the number of
    // non-null points.
    setData(times, series) {
      this.times = times;
      const groups = [];
      for (const s of series) {
        s.group = s.group || s.name;
        if (!groups.includes(s.group)) groups.push(s.group);
      }
      for (const s of series) {
        s.color = s.color || PALETTE[groups.indexOf(s.group) % PALETTE.length];
      }
      this.series = series;
      this.renderLegend(groups);
      this.draw();
      let n = 0;
      for (const s of series) for (const v of s.values) if (v !== null) n++;
      return n;
    }

    showMessage(text) {
      this.msg.textContent = text;
      this.msg.hidden = !text;
    }

    renderLegend(groups) {
      this.legend.replaceChildren();
      for (const g of groups) {
        const s = this.series.find((x) => x.group === g);
        const item = document.createElement('button');
        item.type = 'button';
        item.className = 'legend-item';
        item.classList.toggle('off', this.hidden.has(g));
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = s.color;
        item.append(sw, document.createTextNode(g));
        item.addEventListener('click', () => {
          if (this.hidden.has(g)) this.hidden.delete(g); else this.hidden.add(g);
          item.classList.toggle('off', this.hidden.has(g));
          this.draw();
        });
        this.legend.append(item);
      }
    }

    visible() {
      return this.series.filter((s) => !this.hidden.has(s.group));
    }

    // layers returns, per visible series, the lower and upper y value of each
    // point in data units (before scaling); null marks a gap.
    layers() {
      const vis = this.visible();
      const n = this.times.length;
      const posBase = new Array(n).fill(0);
      const negBase = new Array(n).fill(0);
      return vis.map((s) => {
        const lo = new Array(n);
        const hi = new Array(n);
        for (let i = 0; i < n; i++) {
          const v = s.values[i];
          if (v === null || v === undefined) {
            lo[i] = hi[i] = null;
            continue;
          }
          const sv = s.neg ? -v : v;
          if (this.opts.stacked) {
            const b = sv < 0 ? negBase : posBase;
            lo[i] = b[i];
            hi[i] = b[i] + sv;
            b[i] = hi[i];
          } else {
            lo[i] = 0;
            hi[i] = sv;
          }
        }
        return {s, lo, hi};
      });
    }

    // yDomain returns the data range to show, in data units.
    yDomain(layers) {
      let lo = 0;
      let hi = -Infinity;
      for (const l of layers) {
        for (const v of l.hi) {
          if (v === null) continue;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
      if (!isFinite(hi) || hi < 0) hi = 0;
      if (this.opts.max !== undefined && hi <= this.opts.max) hi = this.opts.max;
      if (hi === lo) hi = lo + 1;
      if (lo < 0 && this.opts.mirror) { // keep zero centred for mirror charts
        const m = Math.max(hi, -lo);
        hi = m;
        lo = -m;
      }
      return {lo, hi};
    }

    draw() {
      const dpr = window.devicePixelRatio || 1;
      const w = this.area.clientWidth;
      const h = HEIGHT;
      this.width = w;
      for (const c of [this.base, this.over]) {
        c.width = Math.round(w * dpr);
        c.height = Math.round(h * dpr);
        c.style.width = w + 'px';
        c.style.height = h + 'px';
      }
      const ctx = this.base.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      if (this.times.length === 0 || w === 0) return;

      const layers = this.layers();
      const dom = this.yDomain(layers);
      const scale = this.unit.scale(Math.max(Math.abs(dom.lo), Math.abs(dom.hi)));
      const yt = niceTicks(dom.lo / scale.div, dom.hi / scale.div,
          Math.max(2, Math.floor(h / 45)));
      const labels = yt.ticks.map((v) => this.unit.tick(Math.abs(v), scale, yt.step));
      ctx.font = '11px ' + cssVar('--font', 'sans-serif');
      const labelW = Math.max(...labels.map((l) => ctx.measureText(l).width));
      const left = Math.ceil(labelW) + 12;
      const plotW = Math.max(10, w - left - PAD.right);
      const plotH = h - PAD.top - PAD.bottom;
      const t0 = this.times[0];
      const t1 = this.times[this.times.length - 1];
      const span = Math.max(1, t1 - t0);
      const x = (t) => left + ((t - t0) / span) * plotW;
      const y = (v) => PAD.top + plotH - ((v / scale.div - yt.min) / (yt.max - yt.min)) * plotH;
      this.geom = {left, plotW, plotH, x, y, t0, span, scale};

      const grid = cssVar('--grid', '#253041');
      const muted = cssVar('--muted', '#8b98a9');
      ctx.lineWidth = 1;
      ctx.textBaseline = 'middle';
      ctx.textAlign = 'right';
      yt.ticks.forEach((v, i) => {
        const py = Math.round(y(v * scale.div)) + 0.5;
        ctx.strokeStyle = v === 0 && yt.min < 0 ? muted : grid;
        ctx.beginPath();
        ctx.moveTo(left, py);
        ctx.lineTo(left + plotW, py);
        ctx.stroke();
        ctx.fillStyle = muted;
        ctx.fillText(labels[i], left - 6, py);
      });
      const tt = timeTicks(t0, t1, plotW);
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      for (const t of tt.ticks) {
        const px = Math.round(x(t)) + 0.5;
        ctx.strokeStyle = grid;
        ctx.beginPath();
        ctx.moveTo(px, PAD.top);
        ctx.lineTo(px, PAD.top + plotH);
        ctx.stroke();
        ctx.fillStyle = muted;
        ctx.fillText(timeLabel(t, tt.step), px, PAD.top + plotH + 6);
      }

      ctx.save();
      ctx.beginPath();
      ctx.rect(left, PAD.top - 1, plotW, plotH + 2);
      ctx.clip();
      this.drawBands(ctx, x, plotH);
      for (const l of layers) this.drawLayer(ctx, l, x, y);
      this.drawMarks(ctx, x, plotH, t0);
      ctx.restore();
      this.drawOverlay();
    }

    // setBands shades periods behind the series (the host's outages) and
    // redraws.
    setBands(bands) {
      this.bands = bands || [];
      if (this.times.length) this.draw();
    }

    // drawBands shades each band across the plot's height, its label on top.
    drawBands(ctx, x, plotH) {
      if (this.bands.length === 0) return;
      ctx.fillStyle = cssVar('--band', 'rgba(229, 83, 75, 0.16)');
      ctx.textAlign = 'left';
      ctx.textBaseline = 'top';
      for (const b of this.bands) {
        const x0 = x(b.start);
        const x1 = Math.max(x(b.end), x0 + 2);
        ctx.fillRect(x0, PAD.top, x1 - x0, plotH);
        if (b.label && x1 - x0 > 40) {
          ctx.save();
          ctx.fillStyle = cssVar('--muted', '#8b98a9');
          ctx.fillText(b.label, x0 + 3, PAD.top + 2);
          ctx.restore();
        }
      }
    }

    // setMarks marks moments on the plot (when each of the host's firing
    // alerts became active) and redraws.
    setMarks(marks) {
      this.marks = marks || [];
      if (this.times.length) this.draw();
    }

    // drawMarks draws each mark as a dashed line over the series, its label
    // at the foot; labels of marks close together are stacked. A mark from
    // before the window (an alert firing for longer) sits at its left edge.
    drawMarks(ctx, x, plotH, t0) {
      if (this.marks.length === 0) return;
      ctx.save();
      ctx.strokeStyle = ctx.fillStyle = cssVar('--bad', '#ef5b5b');
      ctx.setLineDash([4, 3]);
      ctx.textBaseline = 'bottom';
      const sorted = [...this.marks].sort((a, b) => a.t - b.t);
      let lastX = -Infinity;
      let stack = 0;
      for (const m of sorted) {
        const px = Math.round(x(Math.max(m.t, t0))) + 0.5;
        stack = px - lastX < 120 ? stack + 1 : 0;
        lastX = px;
        ctx.beginPath();
        ctx.moveTo(px, PAD.top);
        ctx.lineTo(px, PAD.top + plotH);
        ctx.stroke();
        // The label goes right of the line, or left of it near the edge.
        const text = '\u25B2 ' + m.label;
        const right = px + 3 + ctx.measureText(text).width <= this.geom.left + this.geom.plotW;
        ctx.textAlign = right ? 'left' : 'right';
        ctx.fillText(text, right ? px + 3 : px - 3, PAD.top + plotH - 2 - stack * 13);
      }
      ctx.restore();
    }

    // drawLayer draws one series as a line (and, when stacked, the band below
    // it), breaking the path at every gap.
    drawLayer(ctx, l, x, y) {
      const n = this.times.length;
      const stacked = this.opts.stacked;
      ctx.strokeStyle = l.s.color;
      ctx.fillStyle = l.s.color;
      ctx.lineWidth = 1.5;
      ctx.lineJoin = 'round';
      let i = 0;
      while (i < n) {
        if (l.hi[i] === null) {
          i++;
          continue;
        }
        let j = i;
        while (j + 1 < n && l.hi[j + 1] !== null) j++;
        if (i === j) { // an isolated point: show it as a dot
          ctx.beginPath();
          ctx.arc(x(this.times[i]), y(l.hi[i]), 1.8, 0, 2 * Math.PI);
          ctx.fill();
          i = j + 1;
          continue;
        }
        if (stacked || this.opts.fill) {
          ctx.beginPath();
          for (let k = i; k <= j; k++) ctx.lineTo(x(this.times[k]), y(l.hi[k]));
          for (let k = j; k >= i; k--) ctx.lineTo(x(this.times[k]), y(l.lo[k]));
          ctx.closePath();
          ctx.globalAlpha = stacked ? 0.45 : 0.12;
          ctx.fill();
          ctx.globalAlpha = 1;
        }
        ctx.beginPath();
        for (let k = i; k <= j; k++) ctx.lineTo(x(this.times[k]), y(l.hi[k]));
        ctx.stroke();
        i = j + 1;
      }
    }

    drawOverlay() {
      const ctx = this.over.getContext('2d');
      const dpr = window.devicePixelRatio || 1;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, this.width || 0, HEIGHT);
      const g = this.geom;
      if (this.hoverX === null || !g || this.times.length === 0 || this.hoverX < g.left) {
        this.tip.hidden = true;
        return;
      }
      // The right margin snaps to the newest point, so it is easy to read.
      const n = this.times.length;
      const i = Math.max(0, Math.min(n - 1,
          Math.round(((this.hoverX - g.left) / g.plotW) * (n - 1))));
      const t = this.times[i];
      const px = Math.round(g.x(t)) + 0.5;
      ctx.strokeStyle = cssVar('--crosshair', '#9aa7b8');
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(px, PAD.top);
      ctx.lineTo(px, PAD.top + g.plotH);
      ctx.stroke();
      ctx.setLineDash([]);
      const rows = [];
      let total = 0;
      let any = false;
      for (const l of this.layers()) {
        const v = l.s.values[i];
        if (v !== null && v !== undefined) {
          ctx.fillStyle = l.s.color;
          ctx.beginPath();
          ctx.arc(px, g.y(l.hi[i]), 3, 0, 2 * Math.PI);
          ctx.fill();
          total += v;
          any = true;
        }
        rows.push([l.s, v]);
      }
      this.renderTip(t, rows, any ? total : null, px);
    }

    renderTip(t, rows, total, px) {
      const tip = this.tip;
      tip.replaceChildren();
      const head = document.createElement('div');
      head.className = 'tip-time';
      head.textContent = fullTime(t);
      tip.append(head);
      const table = document.createElement('table');
      const add = (color, name, value, cls) => {
        const tr = table.insertRow();
        if (cls) tr.className = cls;
        const c0 = tr.insertCell();
        if (color) {
          const sw = document.createElement('span');
          sw.className = 'swatch';
          sw.style.background = color;
          c0.append(sw);
        }
        tr.insertCell().textContent = name;
        const c2 = tr.insertCell();
        c2.className = 'num';
        c2.textContent = value === null || value === undefined ? '—' : this.unit.fmt(value);
      };
      for (const [s, v] of rows) add(s.color, s.name, v);
      if (this.opts.totalLabel && rows.length > 1) add(null, this.opts.totalLabel, total, 'total');
      tip.append(table);
      tip.hidden = false;
      const w = tip.offsetWidth;
      const room = this.area.clientWidth;
      const leftPos = px + 14 + w > room ? px - 14 - w : px + 14;
      tip.style.left = Math.max(0, leftPos) + 'px';
    }
  }

  Plot.niceTicks = niceTicks;
  Plot.timeTicks = timeTicks;
  return Plot;
})();
