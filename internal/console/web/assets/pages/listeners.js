// Live listeners: the app's `herald listen` endpoints (URL listen:<name>), whether a
// session is connected now and since when (GET /v1/apps/{app}/listeners), refreshed
// every 5 s while the page is open.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {ago, badge, link, pageHeader, table, when} from '../ui.js';

/** render renders the listeners page. */
export async function render(ctx) {
  const body = h('div', {id: 'listeners', 'aria-live': 'polite'});
  append(ctx.main, pageHeader('Listeners'),
    h('p', {class: 'muted'}, 'A developer runs ', h('code', null, 'herald listen --app ' + ctx.app),
      ' to receive this app\'s webhooks on their machine. Deliveries to a listener wait while it is not connected.'),
    body);
  const load = async () => {
    const r = await api('GET', ctx.appPath('listeners'), undefined, {query: {limit: 200}});
    if (!ctx.live()) return;
    replace(body, table(['Name', 'Connection', 'Connected since', 'Last seen', 'Source', 'Event types', 'State'], (r.data || []).map((l) => [
      link(ctx.href('endpoints', l.endpoint_id), l.name, 'mono strong'),
      l.connected ? h('span', {class: 'badge b-connected'}, 'connected') : h('span', {class: 'badge b-offline'}, 'not connected'),
      l.connected_since ? [when(l.connected_since), h('small', {class: 'muted'}, ' (' + ago(l.connected_since) + ')')] : '—',
      l.last_seen_at ? ago(l.last_seen_at) : 'never',
      l.source_id || 'all messages',
      l.event_types.length ? l.event_types.join(', ') : 'all types', badge(l.state),
    ]), 'No listener has connected to this app yet.'));
  };
  await load();
  const t = setInterval(() => load().catch(() => {}), 5000);
  ctx.cleanup(() => clearInterval(t));
}
