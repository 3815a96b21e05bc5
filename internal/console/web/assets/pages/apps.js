// Apps (the operator's customers): search, create, and mint a portal link.

import {api, appPath} from '../api.js';
import {h, append, replace} from '../dom.js';
import {KEEP, button, dialog, field, link, pageHeader, pager, table, toast, when} from '../ui.js';

/** list renders the apps page. */
export async function list(ctx) {
  const all = [];
  const body = h('div');
  const search = field('Search apps', 'q', {type: 'search', placeholder: 'name, uid or id', autocomplete: 'off'});
  const input = search.querySelector('input');
  const draw = () => {
    const q = input.value.trim().toLowerCase();
    const shown = q ? all.filter((a) => [a.name, a.uid, a.id].some((v) => v && v.toLowerCase().includes(q))) : all;
    replace(body, table(['Name', 'UID', 'ID', 'Created', ''], shown.map((a) => [
      link('#/a/' + encodeURIComponent(a.id) + '/endpoints', a.name, 'strong'), a.uid || '—', h('span', {class: 'mono'}, a.id),
      when(a.created_at), button('Portal link', () => portalLink(a)),
    ]), q ? 'No loaded app matches; press Enter to look it up by id or uid.' : 'No apps yet.'));
  };
  input.addEventListener('input', draw);
  input.addEventListener('keydown', async (ev) => {
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    const v = input.value.trim();
    if (!v) return;
    try {
      const a = await api('GET', appPath(v));
      ctx.go('#/a/' + encodeURIComponent(a.id) + '/endpoints');
    } catch (e) {
      toast(e.status === 404 ? 'No app ' + v + '.' : e.message, 'error');
    }
  });
  const more = h('div');
  append(ctx.main, pageHeader('Apps', button('New app', () => createApp(ctx), 'primary')),
    h('div', {class: 'card'}, search), body, more);
  const load = async (cursor) => {
    const r = await api('GET', '/v1/apps', undefined, {query: {limit: 200, cursor}});
    all.push(...(r.data || []));
    draw();
    pager(more, r.next_cursor, load);
  };
  await load('');
}

async function createApp(ctx) {
  const a = await dialog({
    title: 'New app',
    body: [field('Name', 'name', {required: true, autocomplete: 'off'}), field('UID (your id for it, optional)', 'uid', {autocomplete: 'off'})],
    actions: [{label: 'Cancel'}, {label: 'Create app', kind: 'primary', submit: true}],
    onSubmit: (f) => api('POST', '/v1/apps', {name: f.elements.name.value.trim(), uid: f.elements.uid.value.trim() || undefined}),
  });
  if (a && a.id) {
    toast('App created.');
    const {loadApps} = await import('../app.js');
    await loadApps();
    ctx.go('#/a/' + encodeURIComponent(a.id) + '/endpoints');
  }
}

/** portalLink mints a single-use portal link for the app's customer. */
async function portalLink(a) {
  const out = h('div');
  await dialog({
    title: 'Portal link for ' + a.name,
    body: [
      h('p', null, 'A single-use link that opens the portal of this app. Send it to the customer right away.'),
      field('Access', 'capabilities', {tag: 'select', options: [['read', 'read only'], ['manage', 'read and manage endpoints']], value: 'manage'}),
      field('Valid for (minutes)', 'minutes', {type: 'number', min: 1, max: 10080, value: 60}),
      out,
    ],
    actions: [{label: 'Close'}, {label: 'Create link', kind: 'primary', submit: true}],
    onSubmit: async (f) => {
      const caps = f.elements.capabilities.value === 'manage' ? ['read', 'manage'] : ['read'];
      const r = await api('POST', appPath(a.id, 'portal-sessions'), {expires_in: Math.round(Number(f.elements.minutes.value) * 60), capabilities: caps});
      const urlField = field('Link (expires ' + new Date(r.expires_at).toLocaleString() + ')', 'url', {readonly: true, value: r.url, class: 'mono'});
      replace(out, urlField);
      urlField.querySelector('input').select();
      return KEEP;
    },
  });
}
