// The event catalogue: customers browse it, operators manage it.

import {api, ApiError} from '../api.js';
import {h, append} from '../dom.js';
import {badge, button, confirm, field, form, kv, link, pageHeader, pre, section, table, toast, when} from '../ui.js';

/** catalogue answers every event type (up to 1,000), or [] when there is no catalogue. */
export async function catalogue() {
  const out = [];
  let cursor = '';
  try {
    for (let i = 0; i < 5; i++) {
      const r = await api('GET', '/v1/event-types', undefined, {query: {limit: 200, cursor}});
      out.push(...(r.data || []));
      cursor = r.next_cursor;
      if (!cursor) break;
    }
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  return out;
}

const typePath = (name) => '/v1/event-types/' + encodeURIComponent(name);
const typeHref = (name) => '#/event-types/' + encodeURIComponent(name);

/** list renders the catalogue. */
export async function list(ctx) {
  const types = await catalogue();
  append(ctx.main, pageHeader('Event types', ctx.operator && link('#/event-types/new', 'New event type', 'btn primary')),
    h('p', {class: 'muted'}, 'The events this service sends. Endpoints subscribe to them by name or by prefix (invoice.*).'),
    table(['Name', 'Description', ''], types.map((t) => [
      link(typeHref(t.name), t.name, 'mono strong'), t.description || '—', t.deprecated ? badge('deprecated') : '',
    ]), 'The catalogue is empty.' + (ctx.operator ? ' Add the event types you publish.' : '')));
}

/** detail renders one event type with its schema and example. */
export async function detail(ctx) {
  const t = await api('GET', typePath(ctx.params.name));
  append(ctx.main, pageHeader(t.name,
    ctx.operator && link(typeHref(t.name) + '/edit', 'Edit', 'btn'),
    ctx.operator && button('Delete', async () => {
      if (!await confirm('Delete this event type?', `${t.name} leaves the catalogue; messages of this type can still be sent.`, 'Delete')) return;
      await api('DELETE', typePath(t.name));
      toast('Event type deleted.');
      ctx.go('#/event-types');
    }, 'danger')),
  t.deprecated && h('p', {class: 'banner'}, 'Deprecated: do not build on this event type.'),
  kv([['Description', t.description || '—'], ['Updated', when(t.updated_at)]]),
  section('Example', t.example ? pre(t.example) : h('p', {class: 'muted'}, 'No example.')),
  section('JSON Schema', t.schema ? pre(t.schema) : h('p', {class: 'muted'}, 'No schema.')));
}

/** parseJSONField reads an optional JSON textarea, naming the field on error. */
function parseJSONField(f, name) {
  const v = f.elements[name].value.trim();
  if (!v) return undefined;
  try { return JSON.parse(v); } catch (e) {
    const err = new Error(name + ' is not valid JSON: ' + e.message);
    err.field = name;
    throw err;
  }
}

/** edit creates or edits an event type (operators). */
export async function edit(ctx) {
  const name = ctx.params.name;
  const t = name ? await api('GET', typePath(name)) : {};
  const json = (v) => (v ? JSON.stringify(v, null, 2) : '');
  const f = form([
    field('Name', 'name', {value: t.name || '', required: true, disabled: !!name, placeholder: 'invoice.paid', class: 'mono'}),
    field('Description', 'description', {value: t.description || ''}),
    field('Example payload (JSON)', 'example', {tag: 'textarea', rows: 8, class: 'mono', value: json(t.example), spellcheck: 'false'}, 'Test events use it.'),
    field('JSON Schema', 'schema', {tag: 'textarea', rows: 8, class: 'mono', value: json(t.schema), spellcheck: 'false'}),
    field('Deprecated', 'deprecated', {type: 'checkbox', checked: !!t.deprecated}),
  ], async (el) => {
    const body = {
      description: el.elements.description.value,
      example: parseJSONField(el, 'example'),
      schema: parseJSONField(el, 'schema'),
      deprecated: el.elements.deprecated.checked,
    };
    const r = name ? await api('PATCH', typePath(name), body) : await api('POST', '/v1/event-types', {name: el.elements.name.value.trim(), ...body});
    toast('Event type saved.');
    ctx.go(typeHref(r.name));
  });
  append(ctx.main, pageHeader(name ? 'Edit ' + name : 'New event type'), h('div', {class: 'card'}, f));
}
