// The message log: filter by event type, delivery status, endpoint and time range, or
// find a message (or delivery) by id. Filters live in the URL, so a view can be shared.

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {badge, field, link, pageHeader, pager, table, toast, toRFC3339, when} from '../ui.js';
import {catalogue} from './eventtypes.js';

function toLocal(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  if (isNaN(d)) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** list renders the log. */
export async function list(ctx) {
  const q = ctx.query;
  const [types, eps] = await Promise.all([
    catalogue().catch(() => []),
    api('GET', ctx.appPath('endpoints'), undefined, {query: {limit: 200}}).then((r) => r.data || []).catch(() => []),
  ]);
  const epName = new Map(eps.map((e) => [e.id, e.description || e.url]));
  const typeOptions = [['', 'any type'], ...types.map((t) => [t.name, t.name])];
  if (q.type && !types.some((t) => t.name === q.type)) typeOptions.push([q.type, q.type]);

  const filters = h('form', {class: 'filters', role: 'search', 'aria-label': 'Filter messages'},
    field('Event type', 'type', {tag: 'select', options: typeOptions, value: q.type || ''}),
    field('Delivery status', 'status', {tag: 'select', options: [['', 'any status'], 'pending', 'succeeded', 'failed'], value: q.status || ''}),
    field('Endpoint', 'endpoint_id', {tag: 'select', options: [['', 'any endpoint'], ...eps.map((e) => [e.id, e.url])], value: q.endpoint_id || ''}),
    field('From', 'since', {type: 'datetime-local', value: toLocal(q.since)}),
    field('To', 'until', {type: 'datetime-local', value: toLocal(q.until)}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'btn primary'}, 'Filter'), link(ctx.href('messages'), 'Clear', 'btn subtle')));
  filters.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const el = filters.elements;
    const p = new URLSearchParams();
    for (const [k, v] of [['type', el.type.value], ['status', el.status.value], ['endpoint_id', el.endpoint_id.value],
      ['since', toRFC3339(el.since.value)], ['until', toRFC3339(el.until.value)]]) if (v) p.set(k, v);
    const qs = p.toString();
    ctx.go(ctx.href('messages') + (qs ? '?' + qs : ''));
  });

  const find = h('form', {class: 'find', role: 'search', 'aria-label': 'Find by id'},
    field('Find by id', 'id', {placeholder: 'msg_… or dlv_…', class: 'mono', autocomplete: 'off'}),
    h('div', {class: 'actions'}, h('button', {type: 'submit', class: 'btn'}, 'Find')));
  find.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = find.elements.id.value.trim();
    try {
      if (v.startsWith('dlv_')) {
        const d = await api('GET', ctx.appPath('deliveries', v));
        ctx.go(ctx.href('messages', d.message_id));
      } else {
        const m = await api('GET', ctx.appPath('messages', v));
        ctx.go(ctx.href('messages', m.id));
      }
    } catch (e) {
      toast(e.status === 404 || e.status === 400 ? 'No message or delivery ' + v + ' here.' : e.message, 'error');
    }
  });

  const body = h('div');
  append(ctx.main, pageHeader('Messages'), h('div', {class: 'card filters-card'}, filters, find), body);

  // Delivery filters (status, endpoint) list deliveries; otherwise messages are listed.
  const byDelivery = q.status || q.endpoint_id;
  if (byDelivery && q.type) {
    body.append(h('p', {class: 'banner'}, 'The event type filter does not combine with status or endpoint yet; showing deliveries by status and endpoint.'));
  }
  const load = async (cursor) => {
    if (byDelivery) {
      const r = await api('GET', ctx.appPath('deliveries'), undefined, {query: {status: q.status, endpoint_id: q.endpoint_id, since: q.since, until: q.until, cursor, limit: 50}});
      body.append(table(['Created', 'Message', 'Endpoint', 'Status', 'Attempts', 'Last answer'], (r.data || []).map((d) => [
        when(d.created_at), link(ctx.href('messages', d.message_id), d.message_id, 'mono'),
        epName.get(d.endpoint_id) || d.endpoint_id, badge(d.status), String(d.attempts),
        d.last_status_code ? String(d.last_status_code) : (d.last_error ? h('span', {class: 'error-text clip', title: d.last_error}, d.last_error) : '—'),
      ]), cursor ? 'No more deliveries.' : 'No deliveries match.'));
      pager(body, r.next_cursor, load);
      return;
    }
    const r = await api('GET', ctx.appPath('messages'), undefined, {query: {type: q.type, source_id: q.source_id, since: q.since, until: q.until, cursor, limit: 50}});
    body.append(table(['Created', 'Event type', 'Message'], (r.data || []).map((m) => [
      when(m.created_at), h('span', {class: 'mono'}, m.type), link(ctx.href('messages', m.id), m.id, 'mono'),
    ]), cursor ? 'No more messages.' : 'No messages match.'));
    pager(body, r.next_cursor, load);
  };
  await load('');
}
