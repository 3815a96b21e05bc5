// Sources of the receiving gateway, and the requests each one refused.

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {headersTable, kv, link, pageHeader, pager, pre, section, table, when} from '../ui.js';

/** list renders the app's sources. */
export async function list(ctx) {
  const r = await api('GET', ctx.appPath('sources'), undefined, {query: {limit: 200}});
  append(ctx.main, pageHeader('Sources'),
    h('p', {class: 'muted'}, 'Providers send webhooks to a source; herald verifies them and fans them out to endpoints.'),
    table(['Name', 'Provider', 'Ingest path', 'Created'], (r.data || []).map((s) => [
      link(ctx.href('sources', s.id), s.name, 'strong'), s.provider, h('span', {class: 'mono'}, s.ingest_path), when(s.created_at),
    ]), 'No sources.'));
}

/** findings lists what the verification debugger found, each with what to do. */
function findings(list) {
  return h('ul', {class: 'findings'}, list.map((f) => h('li', null,
    h('strong', {class: 'mono'}, f.code), f.confirmed ? ' (confirmed)' : '', ': ', f.message,
    h('div', {class: 'muted'}, f.hint))));
}

/** detail renders a source and its rejections. */
export async function detail(ctx) {
  const s = await api('GET', ctx.appPath('sources', ctx.params.src));
  const body = h('div');
  append(ctx.main, pageHeader(s.name),
    kv([['Provider', s.provider], ['Ingest path', h('span', {class: 'mono'}, s.ingest_path)], ['ID', h('span', {class: 'mono'}, s.id)],
      ['Max body', s.max_body_bytes + ' bytes'], ['Dedupe window', s.dedupe_window_seconds + ' s']]),
    link(ctx.href('messages') + '?source_id=' + encodeURIComponent(s.id), 'Messages from this source', 'btn'),
    section('Rejected requests', body));
  const load = async (cursor) => {
    const r = await api('GET', ctx.appPath('sources', s.id, 'rejections'), undefined, {query: {limit: 50, cursor}});
    for (const j of r.data || []) {
      const diagnosis = j.diagnosis || [];
      body.append(h('details', {class: 'attempt'},
        h('summary', null, when(j.received_at), ' · ', String(j.status), ' ', j.code, ' · ', diagnosis.length ? diagnosis[0].code : j.message),
        kv([['From', j.remote_addr], ['Message', j.message]]),
        diagnosis.length > 0 && [h('h4', null, 'Why'), findings(diagnosis)],
        h('h4', null, 'Headers'), headersTable(j.headers),
        h('h4', null, 'Body'), pre(j.body || '')));
    }
    if (!cursor && !(r.data || []).length) body.append(h('p', {class: 'muted'}, 'No rejected requests.'));
    pager(body, r.next_cursor, load);
  };
  await load('');
}
