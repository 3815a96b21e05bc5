// Live listeners: the app's `herald listen` endpoints (URL listen:<name>).

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {badge, link, pageHeader, table, when} from '../ui.js';

/** render renders the listeners page. */
export async function render(ctx) {
  const [r, st] = await Promise.all([
    api('GET', ctx.appPath('endpoints'), undefined, {query: {limit: 1000}}),
    api('GET', '/v1/stats').catch(() => null),
  ]);
  const ls = (r.data || []).filter((e) => e.url.startsWith('listen:'));
  append(ctx.main, pageHeader('Listeners'),
    h('p', {class: 'muted'}, 'A developer runs ', h('code', null, 'herald listen --app ' + ctx.app),
      ' to receive this app\'s webhooks on their machine. Deliveries wait while no listener of the name is connected.'),
    st && h('p', {class: 'stat-line'}, h('strong', null, String(st.listeners ?? 0)), ' listeners connected to this server now (all apps).'),
    table(['Name', 'Source', 'Event types', 'State', 'Since'], ls.map((e) => [
      link(ctx.href('endpoints', e.id), e.url.slice('listen:'.length), 'mono strong'), e.source_id || 'all messages',
      e.event_types && e.event_types.length ? e.event_types.join(', ') : 'all types', badge(e.state), when(e.created_at),
    ]), 'No listener has connected to this app yet.'));
}
