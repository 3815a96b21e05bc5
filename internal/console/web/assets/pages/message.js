// One message: its payload (pretty-printed, as text), and every delivery with every
// attempt; a delivery can be retried.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {badge, button, headersTable, kv, link, pageHeader, pre, section, toast, when} from '../ui.js';

/** payloadView shows a payload as text: JSON pretty-printed, text and base64 as they are. */
function payloadView(m) {
  if (m.payload === null || m.payload === undefined) return h('p', {class: 'muted'}, 'The payload was removed by retention.');
  if (m.payload_encoding === 'base64') return [h('p', {class: 'muted'}, 'Binary body, base64:'), pre(m.payload)];
  if (m.payload_encoding === 'text') return pre(m.payload);
  return pre(m.payload, 'payload');
}

function attemptView(a) {
  return h('details', {class: 'attempt', open: a.outcome !== 'succeeded' ? true : undefined},
    h('summary', null, 'Attempt ', String(a.number), ' · ', badge(a.outcome), ' · ',
      a.status_code ? 'HTTP ' + a.status_code : 'no answer', ' · ', Math.round(a.latency_ms) + ' ms · ', when(a.started_at)),
    kv([
      ['Status', a.status_code ? String(a.status_code) : '—'],
      ['Latency', a.latency_ms.toFixed(1) + ' ms'],
      ['Error', a.error ? h('span', {class: 'error-text'}, a.error) : '—'],
    ]),
    h('h4', null, 'Request headers sent'),
    a.request_headers && typeof a.request_headers === 'object'
      ? headersTable(a.request_headers) : h('p', {class: 'muted'}, 'Not recorded by this server.'),
    h('h4', null, 'Response headers'), headersTable(a.response_headers),
    h('h4', null, 'Response body'), a.response_body ? pre(a.response_body) : h('p', {class: 'muted'}, 'Empty.'));
}

/** render renders the message page. */
export async function render(ctx) {
  const id = ctx.params.msg;
  const [m, eps] = await Promise.all([
    api('GET', ctx.appPath('messages', id)),
    api('GET', ctx.appPath('endpoints'), undefined, {query: {limit: 200}}).then((r) => r.data || []).catch(() => []),
  ]);
  const epURL = new Map(eps.map((e) => [e.id, e.url]));
  const deliveries = h('div');
  append(ctx.main, pageHeader('Message ' + m.id),
    kv([
      ['Event type', h('span', {class: 'mono'}, m.type)],
      ['Created', when(m.created_at)],
      m.idempotency_key && ['Idempotency key', h('span', {class: 'mono'}, m.idempotency_key)],
      m.source_id && ['Source', h('span', {class: 'mono'}, m.source_id)],
    ]),
    section('Payload', payloadView(m)),
    m.headers && section('Headers sent with it', headersTable(m.headers)),
    section('Deliveries', deliveries));

  const draw = async () => {
    const r = await api('GET', ctx.appPath('deliveries'), undefined, {query: {message_id: id, limit: 100}});
    const blocks = await Promise.all((r.data || []).map(async (d) => {
      const at = await api('GET', ctx.appPath('deliveries', d.id, 'attempts'), undefined, {query: {limit: 100}});
      const url = epURL.get(d.endpoint_id);
      return h('article', {class: 'delivery'},
        h('header', {class: 'delivery-head'},
          h('h3', null, url ? link(ctx.href('endpoints', d.endpoint_id), url) : h('span', {class: 'mono'}, d.endpoint_id)),
          badge(d.status),
          h('span', {class: 'muted'}, d.attempts + (d.attempts === 1 ? ' attempt' : ' attempts')),
          d.next_attempt_at && h('span', {class: 'muted'}, 'next ', when(d.next_attempt_at)),
          ctx.canManage && button('Retry now', async () => {
            await api('POST', ctx.appPath('deliveries', d.id, 'retry'));
            toast('Delivery queued for another attempt.');
            setTimeout(() => draw().catch(() => {}), 800);
          })),
        (at.data || []).length ? (at.data || []).map(attemptView) : h('p', {class: 'muted'}, 'No attempt yet.'));
    }));
    if (!ctx.live()) return;
    replace(deliveries, blocks.length ? blocks : h('p', {class: 'muted'}, 'No endpoint was subscribed to this event.'));
  };
  await draw();
}
