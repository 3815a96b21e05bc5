// Create or edit an endpoint: URL, description, event types from the catalogue,
// headers, rate limit, concurrency, FIFO, and its routing (filter, transformation,
// retry schedule, authentication; see routing.js).

import {api} from '../api.js';
import {h, append} from '../dom.js';
import {field, form, pageHeader} from '../ui.js';
import {catalogue} from './eventtypes.js';
import {routingFields} from './routing.js';

/** parseHeaders reads "Name: value" lines into an object, naming the field on error. */
function parseHeaders(text) {
  const out = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf(':');
    if (at < 1) {
      const e = new Error(`headers line ${i + 1} must be "Name: value"`);
      e.field = 'headers';
      throw e;
    }
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

/** render renders the endpoint form (new when there is no :ep). */
export async function render(ctx) {
  const id = ctx.params.ep;
  const [ep, types] = await Promise.all([
    id ? api('GET', ctx.appPath('endpoints', id)) : Promise.resolve({event_types: [], headers: {}}),
    catalogue(),
  ]);
  const chosen = new Set(ep.event_types || []);
  const known = new Set(types.map((t) => t.name));
  const boxes = types.map((t, i) => h('div', {class: 'check'},
    h('input', {type: 'checkbox', id: 'et-' + i, name: 'event_type', value: t.name, checked: chosen.has(t.name)}),
    h('label', {for: 'et-' + i}, h('span', {class: 'mono'}, t.name), t.deprecated ? ' (deprecated)' : '', t.description ? h('small', {class: 'muted'}, ' — ' + t.description) : '')));
  const others = [...chosen].filter((t) => !known.has(t));
  // The routing tests try a message of the first chosen type, with its catalogue example.
  const sample = () => {
    const picked = document.querySelectorAll('input[name=event_type]:checked');
    const now = picked.length ? new Set([...picked].map((c) => c.value)) : chosen;
    const t = types.find((x) => now.has(x.name)) || types[0];
    return t ? {type: t.name, payload: t.example ?? {}} : {type: 'invoice.paid', payload: {id: 'in_1', amount: 4200}};
  };
  const routing = await routingFields(ep, sample);
  const f = form([
    field('URL', 'url', {type: 'url', required: true, value: ep.url || '', placeholder: 'https://example.com/webhooks', autocomplete: 'off'}),
    field('Description', 'description', {value: ep.description || ''}),
    h('fieldset', {class: 'field', 'data-field': 'event_types'},
      h('legend', null, 'Event types'),
      h('p', {class: 'hint'}, 'Pick none to receive every type.'),
      h('div', {class: 'checks'}, boxes),
      field('Other types or wildcards (comma-separated)', 'event_types_other', {value: others.join(', '), placeholder: 'invoice.*', class: 'mono'}),
      h('span', {class: 'field-error', hidden: true})),
    field('Custom headers', 'headers', {tag: 'textarea', rows: 3, class: 'mono', spellcheck: 'false',
      value: Object.entries(ep.headers || {}).map(([k, v]) => k + ': ' + v).join('\n'), placeholder: 'X-Team: billing'}, 'One "Name: value" per line.'),
    h('div', {class: 'row'},
      field('Rate limit (requests/s, 0 = unlimited)', 'rate_limit', {type: 'number', min: 0, step: 'any', value: ep.rate_limit ?? 0}),
      field('Concurrency (0 = server default)', 'max_concurrency', {type: 'number', min: 0, max: 1000, value: ep.max_concurrency ?? 0}),
      field('Timeout (ms, 0 = default)', 'timeout_ms', {type: 'number', min: 0, max: 120000, value: ep.timeout_ms ?? 0})),
    field('FIFO: one delivery at a time, in publish order', 'fifo', {type: 'checkbox', checked: !!ep.fifo}),
    routing.nodes,
  ], async (el) => {
    const picked = [...el.querySelectorAll('input[name=event_type]:checked')].map((c) => c.value);
    const extra = el.elements.event_types_other.value.split(',').map((s) => s.trim()).filter(Boolean);
    const body = {
      url: el.elements.url.value.trim(),
      description: el.elements.description.value,
      event_types: [...picked, ...extra],
      headers: parseHeaders(el.elements.headers.value),
      rate_limit: Number(el.elements.rate_limit.value || 0),
      max_concurrency: Number(el.elements.max_concurrency.value || 0),
      timeout_ms: Number(el.elements.timeout_ms.value || 0),
      fifo: el.elements.fifo.checked,
      ...routing.body(el),
    };
    if (!body.url) {
      const e = new Error('url is required');
      e.field = 'url';
      throw e;
    }
    const r = id ? await api('PATCH', ctx.appPath('endpoints', id), body) : await api('POST', ctx.appPath('endpoints'), body);
    ctx.go(ctx.href('endpoints', r.id));
  }, id ? 'Save' : 'Create endpoint');
  f.addEventListener('change', (ev) => { if (ev.target.name === 'event_type') routing.resample(); });
  append(ctx.main, pageHeader(id ? 'Edit endpoint' : 'New endpoint'), h('div', {class: 'card'}, f));
  f.elements.url.focus();
}
