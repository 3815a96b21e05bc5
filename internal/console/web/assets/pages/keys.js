// API keys: the server's admin keys, and the keys of one app. A new key is shown once.

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {button, confirm, dialog, field, pageHeader, pre, table, toast, when} from '../ui.js';

async function keysPage(ctx, title, path, note) {
  const r = await api('GET', path, undefined, {query: {limit: 200}});
  append(ctx.main, pageHeader(title, button('New key', async () => {
    const k = await dialog({
      title: 'New API key',
      body: [field('Name', 'name', {required: true, autocomplete: 'off', placeholder: 'billing backend'})],
      actions: [{label: 'Cancel'}, {label: 'Create key', kind: 'primary', submit: true}],
      onSubmit: (f) => api('POST', path, {name: f.elements.name.value.trim()}),
    });
    if (!k || !k.key) return;
    await dialog({title: 'Copy the key now', body: [h('p', null, 'It is shown only this once.'), pre(k.key, 'secret')]});
    ctx.refresh();
  }, 'primary')),
  h('p', {class: 'muted'}, note),
  table(['Name', 'Prefix', 'Created', ''], (r.data || []).map((k) => [
    k.name, h('span', {class: 'mono'}, k.prefix + '…'), when(k.created_at),
    button('Delete', async () => {
      if (!await confirm('Delete this key?', `Programs using ${k.name} (${k.prefix}…) stop working at once.`, 'Delete key')) return;
      await api('DELETE', path + '/' + encodeURIComponent(k.id));
      toast('Key deleted.');
      ctx.refresh();
    }, 'danger'),
  ]), 'No keys.'));
}

/** adminKeys renders the admin keys page. */
export function adminKeys(ctx) {
  return keysPage(ctx, 'Admin API keys', '/v1/api-keys', 'Admin keys reach every app, and sign in to this console.');
}

/** appKeys renders the keys of the chosen app. */
export function appKeys(ctx) {
  return keysPage(ctx, 'API keys of this app', ctx.appPath('api-keys'), 'An app key reaches this app only.');
}
