// The routing fields of the endpoint form: payload filter, transformation, retry
// schedule and authentication to the receiver, with "Test" buttons that ask the API
// (POST /v1/filters/test, POST /v1/transformations/test) what would happen. The API
// validates everything; these only gather the fields and show its answers.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {confirm, field, headersTable, pre, showFormError} from '../ui.js';

/** authTypes are the auth.type choices, with the fields each takes (secret ones marked). */
const authTypes = [
  ['', 'None (the signature only)', []],
  ['basic', 'HTTP Basic', [['username', 'User name'], ['password', 'Password', 'secret']]],
  ['bearer', 'Bearer token', [['token', 'Token', 'secret']]],
  ['oauth2', 'OAuth2 client credentials', [['token_url', 'Token URL'], ['client_id', 'Client id'],
    ['client_secret', 'Client secret', 'secret'], ['scopes', 'Scopes (space-separated)'], ['audience', 'Audience'],
    ['client_auth', 'Client authentication', 'select']]],
  ['mtls', 'Mutual TLS (client certificate)', [['cert_pem', 'Client certificate (PEM)', 'pem'], ['key_pem', 'Private key (PEM)', 'secret pem']]],
];

/** fieldError is an error about a form field, shown next to it like the API's. */
function fieldError(name, message) {
  const e = new Error(name + ' ' + message);
  e.field = name;
  return e;
}

/** parseJSON parses a field's JSON, naming the field when it is not JSON. */
function parseJSON(name, text) {
  try { return JSON.parse(text); } catch (e) { throw fieldError(name, 'is not valid JSON: ' + e.message); }
}

/**
 * routingFields builds the routing part of the endpoint form for ep (an endpoint as
 * read, or {} for a new one). sample() returns a message to test with ({type, payload}).
 * It answers the nodes to add to the form, resample() (call it when sample() would
 * answer another message) and body(form), which returns the fields of the request body
 * that changed.
 */
export async function routingFields(ep, sample) {
  const templates = await api('GET', '/v1/transformations/templates').then((r) => r.data || []).catch(() => []);
  const result = h('div', {class: 'test-result', role: 'status', 'aria-live': 'polite'});
  let sampled = JSON.stringify(sample(), null, 2);
  const testMsg = field('Test message (JSON)', 'test_message', {tag: 'textarea', rows: 5, class: 'mono', spellcheck: 'false',
    value: sampled}, 'The "Test" buttons try the filter or the transformation on this message; nothing is sent.');
  // A new sample (the event types changed) replaces the message, unless it was edited.
  const resample = () => {
    const ta = testMsg.querySelector('textarea');
    if (ta.value !== sampled) return;
    sampled = JSON.stringify(sample(), null, 2);
    ta.value = sampled;
  };
  const filter = field('Payload filter (JSON)', 'filter', {tag: 'textarea', rows: 4, class: 'mono', spellcheck: 'false',
    value: ep.filter ? JSON.stringify(ep.filter, null, 2) : '', placeholder: '{"payload": {"amount": {"$gte": 1000}}}'},
  'Only messages that match go to this endpoint; empty sends every message of its event types. Operators: $eq $neq $gt $gte $lt $lte $in $nin $exist $startsWith $endsWith $regex $and $or $not.');
  const script = field('Transformation (JavaScript)', 'transformation', {tag: 'textarea', rows: 8, class: 'mono', spellcheck: 'false',
    value: ep.transformation || '', placeholder: 'function handler(webhook) {\n  webhook.payload = {text: webhook.eventType};\n  return webhook;\n}'},
  'function handler(webhook) runs before each delivery, in a sandbox (no I/O, 50 ms): it may change the method, URL, headers and payload, or set webhook.cancel = true. Empty sends the payload as published.');
  const template = field('Start from a template', 'transformation_template', {tag: 'select',
    options: [['', templates.length ? 'Choose a template…' : 'No templates'], ...templates.map((t) => [t.name, t.name + ' — ' + t.description])]});
  template.querySelector('select').addEventListener('change', async (ev) => {
    const t = templates.find((x) => x.name === ev.target.value);
    const ta = script.querySelector('textarea');
    ev.target.value = '';
    if (!t) return;
    if (ta.value.trim() && ta.value !== t.script && !await confirm('Replace the transformation?', 'The ' + t.name + ' template replaces the script in the field.', 'Replace', false)) return;
    ta.value = t.script;
    ta.focus();
  });
  const test = (label, run) => {
    const b = h('button', {type: 'button', class: 'btn'}, label);
    b.addEventListener('click', async () => {
      const form = b.closest('form');
      b.disabled = true;
      replace(result, h('p', {class: 'muted'}, 'Testing…'));
      try {
        const msg = parseJSON('test_message', form.elements.test_message.value);
        replace(result, await run(form, msg));
      } catch (e) {
        replace(result);
        showFormError(form, result, e);
      } finally {
        b.disabled = false;
      }
    });
    return b;
  };
  const testFilter = test('Test filter', async (form, msg) => {
    const text = form.elements.filter.value.trim();
    if (!text) throw fieldError('filter', 'is empty: every message of the endpoint\'s types goes through');
    const r = await api('POST', '/v1/filters/test', {filter: parseJSON('filter', text), message: {type: msg.type, payload: msg.payload, metadata: msg.metadata}});
    return [h('p', {class: r.match ? 'ok-text strong' : 'error-text strong'}, r.match ? 'The message matches: it would be sent.' : 'The message does not match: it would not be sent.'),
      h('ul', {class: 'reasons'}, (r.reasons || []).map((x) => h('li', {class: 'mono'}, x)))];
  });
  const testScript = test('Test transformation', async (form, msg) => {
    const text = form.elements.transformation.value;
    if (!text.trim()) throw fieldError('transformation', 'is empty: the payload is sent as published');
    const r = await api('POST', '/v1/transformations/test', {script: text,
      webhook: {event_type: msg.type, url: form.elements.url.value || 'https://example.com/webhook', payload: msg.payload}});
    if (r.cancel) return h('p', {class: 'strong'}, 'The script cancels this delivery: nothing would be sent.');
    return [h('p', {class: 'strong'}, 'It would send ' + r.method + ' ' + r.url), h('h4', null, 'Headers'), headersTable(r.headers),
      h('h4', null, 'Body'), pre(r.payload)];
  });
  const retry = field('Retry schedule', 'retry_schedule', {value: (ep.retry_schedule || []).join(', '), placeholder: '5s, 1m, 10m, 1h', class: 'mono', autocomplete: 'off'},
    'The delays before each retry, comma-separated; empty uses the server\'s schedule.');
  const auth = authFields(ep.auth);
  const nodes = [
    h('fieldset', {class: 'field routing'}, h('legend', null, 'Routing and transformation'),
      filter, h('div', {class: 'row'}, template), script, testMsg, h('div', {class: 'actions'}, testFilter, testScript), result),
    retry, auth.node,
  ];
  return {nodes, resample, body: (form) => ({...filterBody(form, ep), ...scriptBody(form, ep), ...retryBody(form, ep), ...auth.body(form)})};
}

function filterBody(form, ep) {
  const text = form.elements.filter.value.trim();
  if (text) return {filter: parseJSON('filter', text)};
  return ep.filter ? {filter: {}} : {}; // {} removes it
}

function scriptBody(form, ep) {
  const text = form.elements.transformation.value;
  // Sent only when it changed, so that a server without transformations takes the form.
  return text === (ep.transformation || '') ? {} : {transformation: text.trim() ? text : ''};
}

function retryBody(form, ep) {
  const steps = form.elements.retry_schedule.value.split(',').map((s) => s.trim()).filter(Boolean);
  if (steps.length) return {retry_schedule: steps};
  return (ep.retry_schedule || []).length ? {retry_schedule: []} : {}; // [] means the server's
}

/**
 * authFields builds the auth fieldset for the stored auth (its public fields and
 * secret_set, or undefined). Secret fields are write-only: blank keeps the stored secret.
 */
function authFields(stored) {
  const cur = stored || {};
  const kept = cur.secret_set ? 'Stored; leave blank to keep it' : '';
  const typeField = field('Type', 'auth.type', {tag: 'select', options: authTypes.map(([v, t]) => [v, t]), value: cur.type || ''});
  const groups = new Map();
  for (const [type, , fields] of authTypes) {
    if (!fields.length) continue;
    groups.set(type, h('div', {class: 'auth-group', 'data-auth': type}, fields.map(([name, label, kind = '']) => {
      const full = 'auth.' + name;
      if (kind === 'select') {
        return field(label, full, {tag: 'select', options: [['header', 'HTTP Basic header (default)'], ['body', 'Form fields in the body']], value: cur[name] || 'header'});
      }
      const secret = kind.includes('secret');
      const props = kind.includes('pem')
        ? {tag: 'textarea', rows: 4, class: 'mono', spellcheck: 'false', value: secret ? '' : cur[name] || '', placeholder: secret ? kept : '-----BEGIN CERTIFICATE-----'}
        : {type: secret ? 'password' : 'text', autocomplete: secret ? 'new-password' : 'off', value: secret ? '' : name === 'scopes' ? (cur.scopes || []).join(' ') : cur[name] || '', placeholder: secret ? kept : ''};
      return field(label, full, props, secret ? 'Write-only: never shown again once saved.' : undefined);
    })));
  }
  const ca = field('Custom CA for the receiver (PEM)', 'auth.ca_pem', {tag: 'textarea', rows: 3, class: 'mono', spellcheck: 'false', value: cur.ca_pem || ''},
    'Replaces the system roots when verifying this receiver\'s certificate; empty uses them.');
  const show = () => {
    const type = typeField.querySelector('select').value;
    for (const [t, g] of groups) g.hidden = t !== type;
    ca.hidden = !type;
  };
  typeField.querySelector('select').addEventListener('change', show);
  const node = h('fieldset', {class: 'field', 'data-field': 'auth'}, h('legend', null, 'Authentication to the receiver'),
    h('p', {class: 'hint'}, 'Besides the webhook signature. Secrets are stored encrypted and never shown again.'),
    typeField, [...groups.values()], ca, h('span', {class: 'field-error', hidden: true}));
  show();
  const body = (form) => {
    const type = form.elements['auth.type'].value;
    if (!type) return stored ? {auth: null} : {}; // null removes it
    const out = {type};
    let secretTyped = false;
    const fields = authTypes.find(([t]) => t === type)[2];
    for (const [name, , kind = ''] of [...fields, ['ca_pem', '', 'pem']]) {
      const v = form.elements['auth.' + name].value.trim();
      if (!v) continue;
      if (kind.includes('secret')) secretTyped = true;
      out[name] = name === 'scopes' ? v.split(/[\s,]+/).filter(Boolean) : v;
    }
    // Sent only when it changed, so that a server without auth takes the form.
    const same = stored && stored.type === type && !secretTyped && publicPart(out) === publicPart(stored);
    return same ? {} : {auth: out};
  };
  return {node, body};
}

/** publicPart is a canonical text of an auth's non-secret fields, to compare two. */
function publicPart(a) {
  const v = {...a, client_auth: a.type === 'oauth2' ? a.client_auth || 'header' : a.client_auth};
  return JSON.stringify(Object.entries(v).filter(([k, x]) => k !== 'secret_set' && x !== undefined && x !== '' &&
    !(Array.isArray(x) && !x.length)).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** routingSummary is what the endpoint page shows of the routing fields. */
export function routingSummary(ep) {
  const a = ep.auth;
  return [
    ['Payload filter', ep.filter ? pre(ep.filter) : 'none'],
    ['Transformation', ep.transformation ? pre(ep.transformation) : 'none'],
    ['Retry schedule', (ep.retry_schedule || []).length ? ep.retry_schedule.join(', ') : 'the server\'s'],
    ['Authentication', a && a.type ? append(h('span'), authTypes.find(([t]) => t === a.type)?.[1] || a.type,
      a.secret_set ? h('span', {class: 'muted'}, ' (secret stored)') : '') : 'none'],
  ];
}
