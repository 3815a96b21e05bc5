// Server health: queue depth, oldest pending delivery, deliveries per minute and the
// backlog sampled while the page is open.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {ago, kv, pageHeader, section} from '../ui.js';
import {barChart, lineChart} from '../chart.js';

/** render renders the health page and refreshes it every 5 s. */
export async function render(ctx) {
  const top = h('div'), perMinute = h('div'), backlog = h('div');
  const samples = [];
  append(ctx.main, pageHeader('Server health'), top,
    section('Deliveries per minute (last hour)', perMinute),
    section('Backlog (pending deliveries, sampled every 5 s while this page is open)', backlog));
  const load = async () => {
    const st = await api('GET', '/v1/stats');
    if (!ctx.live()) return;
    samples.push({t: new Date(), v: st.queue_depth || 0});
    if (samples.length > 360) samples.shift();
    replace(top, h('div', {class: 'tiles'},
      tile('Queue depth', String(st.queue_depth ?? '—')),
      tile('Oldest pending', st.oldest_pending_at ? ago(st.oldest_pending_at) : 'none'),
      tile('Listeners', String(st.listeners ?? 0)),
      tile('Node', st.node_id || '—')),
    st.nodes && kv(st.nodes.map((n) => [n.id || n.node_id, n.last_seen_at ? ago(n.last_seen_at) : ''])));
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
