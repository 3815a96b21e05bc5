// Server health: queue depth, oldest pending delivery, deliveries per minute, the
// backlog sampled while the page is open, and the nodes sharing the database (their
// heartbeats, alive or stale), refreshed every 5 s.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {ago, pageHeader, section, table, when} from '../ui.js';
import {barChart, lineChart} from '../chart.js';

/** render renders the health page and refreshes it every 5 s. */
export async function render(ctx) {
  const top = h('div'), perMinute = h('div'), backlog = h('div'), nodes = h('div', {id: 'nodes'});
  const samples = [];
  append(ctx.main, pageHeader('Server health'), top,
    section('Nodes', nodes),
    section('Deliveries per minute (last hour)', perMinute),
    section('Backlog (pending deliveries, sampled every 5 s while this page is open)', backlog));
  const load = async () => {
    const [st, ns] = await Promise.all([api('GET', '/v1/stats'), api('GET', '/v1/nodes')]);
    if (!ctx.live()) return;
    samples.push({t: new Date(), v: st.queue_depth || 0});
    if (samples.length > 360) samples.shift();
    replace(top, h('div', {class: 'tiles'},
      tile('Queue depth', String(st.queue_depth ?? '—')),
      tile('Oldest pending', st.oldest_pending_at ? ago(st.oldest_pending_at) : 'none'),
      tile('Listeners', String(st.listeners ?? 0)),
      tile('Nodes alive', (ns.data || []).filter((n) => n.alive).length + ' of ' + (ns.data || []).length)));
    replace(nodes, h('p', {class: 'muted'}, ns.shared
      ? `Nodes sharing this PostgreSQL database, by their heartbeats. A node silent for more than ${ns.timeout_seconds} s is stale: the others take its deliveries over, then forget it.`
      : 'This server owns its SQLite database: it is the only node.'),
    table(['Node', 'Started', 'Last heartbeat', 'Status'], (ns.data || []).map((n) => [
      [h('span', {class: 'mono'}, n.id || '(unnamed)'), n.current ? h('small', {class: 'muted'}, ' this node') : ''],
      when(n.started_at), ago(n.heartbeat_at),
      h('span', {class: ['badge', n.alive ? 'b-alive' : 'b-stale']}, n.alive ? 'alive' : 'stale'),
    ]), 'No node has sent a heartbeat yet.'));
    replace(perMinute, barChart(st.deliveries_per_minute || [], 'Deliveries per minute over the last hour, succeeded and failed'));
    replace(backlog, lineChart(samples, 'Pending deliveries'));
  };
  await load();
  const t = setInterval(() => load().catch(() => {}), 5000);
  ctx.cleanup(() => clearInterval(t));
}

function tile(label, value) {
  return h('div', {class: 'tile'}, h('div', {class: 'tile-label'}, label), h('div', {class: 'tile-value'}, value));
}
