// The endpoints of an app: state and 24-hour health of each.

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {table, badge, pageHeader, link, pager, ago} from '../ui.js';

/** healthText shows an endpoint's success rate and attempts over the last 24 h. */
export function healthText(st) {
  if (!st) return h('span', {class: 'muted'}, '—');
  if (!st.attempts) return h('span', {class: 'muted'}, 'no attempts in 24 h');
  const rate = (100 * st.succeeded) / st.attempts;
  return h('span', {class: ['rate', rate >= 99 ? 'good' : rate >= 90 ? 'warn' : 'poor']},
    rate.toFixed(rate === 100 || rate === 0 ? 0 : 1) + ' %', h('small', null, ' of ' + st.attempts));
}

/** list renders the endpoints page. */
export async function list(ctx) {
  const body = h('div');
  append(ctx.main, pageHeader('Endpoints',
    ctx.canManage && !(ctx.session.endpoint_ids && ctx.session.endpoint_ids.length) && link(ctx.href('endpoints', 'new'), 'New endpoint', 'btn primary')),
  body);
  const load = async (cursor) => {
    const r = await api('GET', ctx.appPath('endpoints'), undefined, {query: {limit: 50, cursor}});
    const eps = r.data || [];
    const stats = await Promise.all(eps.map((e) =>
      api('GET', ctx.appPath('endpoints', e.id, 'stats')).catch(() => null)));
    const rows = eps.map((e, i) => [
      h('div', null, link(ctx.href('endpoints', e.id), e.url, 'strong'), e.description && h('div', {class: 'muted small'}, e.description)),
      h('div', null, badge(e.state), e.disabled_reason && h('div', {class: 'muted small'}, e.disabled_reason)),
      healthText(stats[i]),
      stats[i]?.last_error ? h('span', {class: 'error-text clip', title: stats[i].last_error}, stats[i].last_error) : '—',
      e.failing_since ? h('span', {class: 'error-text'}, ago(e.failing_since)) : '—',
      (e.event_types && e.event_types.length) ? e.event_types.join(', ') : 'all types',
    ]);
    body.append(table(['Endpoint', 'State', 'Success (24 h)', 'Last error', 'Failing since', 'Event types'], rows,
      cursor ? 'No more endpoints.' : 'No endpoints yet. Add one to receive webhooks.'));
    pager(body, r.next_cursor, load);
  };
  await load('');
}
