// alerts.js — the rule engine's alerts (api/v1/alerts): the Alerts page,
// and the firing-alert marks other pages put on hosts.
'use strict';

const hawkAlerts = (() => {
  let byInstance = new Map(); // instance → firing alerts, from the last refresh

  // refresh reloads the alerts; a server without rules answers an empty list.
  async function refresh() {
    try {
      const {data} = await hawk.api('api/v1/alerts');
      const m = new Map();
      for (const a of (data && data.alerts) || []) {
        if (a.state !== 'firing') continue;
        const inst = (a.labels || {}).instance || '';
        if (!m.has(inst)) m.set(inst, []);
        m.get(inst).push(a);
      }
      byInstance = m;
      return data.alerts || [];
    } catch (e) {
      return [];
    }
  }

  // badge appends one mark per firing alert of instance to el.
  function badge(el, instance) {
    for (const a of byInstance.get(instance) || []) {
      const b = document.createElement('a');
      b.className = 'badge bad alert-mark';
      b.href = 'alerts';
      b.textContent = a.labels.alertname;
      b.title = (a.annotations || {}).summary || a.labels.alertname;
      el.append(' ', b);
    }
  }

  // firingSince returns [startMs, alertname] of instance's firing alerts,
  // for marks on the host page's charts.
  function firingSince(instance) {
    return (byInstance.get(instance) || []).map((a) => [Date.parse(a.activeAt), a.labels.alertname]);
  }

  function hostLink(labels) {
    const a = document.createElement('a');
    const inst = labels.instance || labels.hostname || '';
    a.href = 'host?instance=' + encodeURIComponent(inst);
    a.textContent = labels.hostname || inst;
    return a;
  }

  // page renders the Alerts page's table every 5 s.
  async function page() {
    const table = document.getElementById('alerts');
    const empty = document.getElementById('empty');
    const alerts = await refresh();
    alerts.sort((x, y) => (x.state === y.state ? Date.parse(x.activeAt) - Date.parse(y.activeAt)
      : (x.state === 'firing' ? -1 : 1)));
    const body = table.tBodies[0];
    body.replaceChildren();
    const now = Date.now();
    for (const a of alerts) {
      const tr = body.insertRow();
      tr.className = a.state;
      const st = tr.insertCell();
      const b = document.createElement('span');
      b.className = 'badge ' + (a.state === 'firing' ? 'bad' : 'warn');
      b.textContent = a.state;
      st.append(b);
      tr.insertCell().textContent = a.labels.alertname;
      const h = tr.insertCell();
      if (a.labels.instance || a.labels.hostname) h.append(hostLink(a.labels));
      tr.insertCell().textContent = a.labels.severity || '';
      tr.insertCell().textContent = (a.annotations || {}).summary || '';
      const since = tr.insertCell();
      since.className = 'num';
      since.textContent = hawk.ago(Date.parse(a.activeAt), now);
      since.title = a.activeAt;
    }
    table.dataset.rows = String(alerts.length);
    table.dataset.state = 'ready';
    empty.hidden = alerts.length > 0;
    empty.textContent = 'No alert is firing or pending.';
    document.body.dataset.ready = 'true';
    setTimeout(page, 5000);
  }

  // hostMarks puts the host's firing alerts beside its name and on its
  // charts, every 5 s.
  async function hostMarks() {
    const instance = new URLSearchParams(location.search).get('instance') || '';
    const title = document.getElementById('host-name');
    if (!instance || !title) return;
    await refresh();
    let box = document.getElementById('host-alerts');
    if (!box) {
      box = document.createElement('span');
      box.id = 'host-alerts';
      title.after(box);
    }
    box.replaceChildren();
    badge(box, instance);
    // host.js marks the charts.
    document.dispatchEvent(new CustomEvent('hawk:alerts', {detail: firingSince(instance)}));
    setTimeout(hostMarks, 5000);
  }

  const pageName = document.body && document.body.dataset.page;
  if (pageName === 'alerts') page();
  if (pageName === 'host') hostMarks();
  return {refresh, badge, firingSince};
})();
