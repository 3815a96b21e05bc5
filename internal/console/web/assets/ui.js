// Shared widgets: dialogs, toasts, forms with per-field errors, tables, badges,
// formatting. Everything renders data as text.

import {h, append, clear, replace} from './dom.js';

/** toast shows a short message in the live region. */
export function toast(text, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', {class: ['toast', kind]}, text);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

/** KEEP, answered by a dialog's onSubmit, keeps the dialog open. */
export const KEEP = Symbol('keep');

/**
 * dialog opens a modal <dialog> (the browser traps focus in it and closes it on
 * Escape) with a title, body nodes and action buttons; it answers a promise of the
 * value of the button pressed (undefined for Escape or Cancel).
 * actions: [{label, value, kind, submit}]; onSubmit(form) may throw to keep it open.
 */
export function dialog({title, body = [], actions = [{label: 'Close'}], onSubmit}) {
  return new Promise((resolve) => {
    const errBox = h('p', {class: 'form-error', role: 'alert', hidden: true});
    const form = h('form', {method: 'dialog', class: 'dialog-form', novalidate: true});
    const heading = h('h2', {id: 'dlg-title-' + Date.now()}, title);
    const buttons = actions.map((a) =>
      h('button', {type: a.submit ? 'submit' : 'button', class: ['btn', a.kind], value: a.value ?? ''}, a.label));
    append(form, heading, body, errBox, h('div', {class: 'actions'}, buttons));
    const dlg = h('dialog', {'aria-labelledby': heading.id}, form);
    let result;
    buttons.forEach((b, i) => {
      if (actions[i].submit) return;
      b.addEventListener('click', () => { result = actions[i].value; dlg.close(); });
    });
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const submitter = ev.submitter;
      if (submitter) submitter.disabled = true;
      errBox.hidden = true;
      try {
        const r = onSubmit ? await onSubmit(form) : true;
        if (r === KEEP) return;
        result = r === undefined ? true : r;
        dlg.close();
      } catch (e) {
        showFormError(form, errBox, e);
      } finally {
        if (submitter) submitter.disabled = false;
      }
    });
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
  });
}

/** confirm asks a yes/no question; danger styles the confirming button. */
export async function confirm(title, text, confirmLabel, danger = true) {
  const v = await dialog({
    title, body: [h('p', null, text)],
    actions: [{label: 'Cancel'}, {label: confirmLabel, value: 'yes', kind: danger ? 'danger' : 'primary'}],
  });
  return v === 'yes';
}

let fieldSeq = 0;

/**
 * field builds a labelled form control: field('URL', 'url', {type: 'url', required: true}).
 * The control gets name, id and an error slot that showFormError fills.
 */
export function field(label, name, props = {}, hint) {
  const id = 'f-' + name + '-' + (++fieldSeq);
  const tag = props.tag || 'input';
  const {tag: _t, options, ...rest} = props;
  const ctl = h(tag, {id, name, 'aria-describedby': id + '-err' + (hint ? ' ' + id + '-hint' : ''), ...rest});
  if (tag === 'select' && options) {
    for (const o of options) {
      const [v, t] = Array.isArray(o) ? o : [o, o];
      ctl.append(h('option', {value: v, selected: String(rest.value ?? '') === String(v)}, t));
    }
    if (rest.value !== undefined) ctl.value = rest.value;
  }
  if (rest.type === 'checkbox') {
    return h('div', {class: 'field check', 'data-field': name}, ctl, h('label', {for: id}, label),
      hint && h('small', {id: id + '-hint', class: 'hint'}, hint),
      h('span', {id: id + '-err', class: 'field-error', hidden: true}));
  }
  return h('div', {class: 'field', 'data-field': name}, h('label', {for: id}, label), ctl,
    hint && h('small', {id: id + '-hint', class: 'hint'}, hint),
    h('span', {id: id + '-err', class: 'field-error', hidden: true}));
}

/** clearFormErrors hides every field error of form. */
export function clearFormErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) { el.hidden = true; el.textContent = ''; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/**
 * showFormError shows an API error: next to the field it names when the form has one,
 * else in box. It focuses the field.
 */
export function showFormError(form, box, e) {
  clearFormErrors(form);
  const wrap = fieldWrap(form, e && e.field);
  if (wrap) {
    const slot = wrap.querySelector(':scope > .field-error') || wrap.querySelector('.field-error');
    slot.textContent = e.message;
    slot.hidden = false;
    const ctl = wrap.querySelector('input, select, textarea');
    if (ctl) { ctl.setAttribute('aria-invalid', 'true'); ctl.focus(); }
    return;
  }
  box.textContent = (e && e.message) || String(e);
  box.hidden = false;
}

/**
 * fieldWrap finds the form's field that an error names, or the nearest one that holds
 * it: "filter.payload.amount" falls back to "filter", "event_types[2]" to "event_types".
 */
function fieldWrap(form, name) {
  while (name) {
    const wrap = form.querySelector('[data-field="' + CSS.escape(name) + '"]');
    if (wrap) return wrap;
    const cut = Math.max(name.lastIndexOf('.'), name.lastIndexOf('['));
    name = cut > 0 ? name.slice(0, cut) : '';
  }
  return null;
}

/** formPage builds a form whose submit calls onSubmit and shows errors by field. */
export function form(children, onSubmit, submitLabel = 'Save') {
  const box = h('p', {class: 'form-error', role: 'alert', hidden: true});
  const btn = h('button', {type: 'submit', class: 'btn primary'}, submitLabel);
  const f = h('form', {class: 'form', novalidate: true}, children, box, h('div', {class: 'actions'}, btn));
  f.addEventListener('input', (ev) => {
    const wrap = ev.target.closest('[data-field]');
    const slot = wrap && wrap.querySelector('.field-error');
    if (slot) { slot.hidden = true; ev.target.removeAttribute('aria-invalid'); }
  });
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    box.hidden = true;
    clearFormErrors(f);
    try { await onSubmit(f); } catch (e) { showFormError(f, box, e); } finally { btn.disabled = false; }
  });
  return f;
}

/** table builds a table from column headings and rows (arrays of cells). */
export function table(headings, rows, empty = 'Nothing here yet.') {
  if (!rows.length) return h('p', {class: 'empty'}, empty);
  return h('div', {class: 'table-wrap'}, h('table', null,
    h('thead', null, h('tr', null, headings.map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c)))))));
}

/** badge shows a state word with a class for its colour. */
export function badge(text) {
  return h('span', {class: ['badge', 'b-' + String(text).replace(/[^a-z_]/gi, '')]}, text);
}

/** when formats an RFC 3339 time for people (local time), with the exact time as a title. */
export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  if (isNaN(d)) return String(ts);
  return h('time', {datetime: ts, title: ts}, d.toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'medium'}));
}

/** ago says how long ago ts was, roughly. */
export function ago(ts) {
  if (!ts) return '—';
  const s = Math.max(0, (Date.now() - new Date(ts).getTime()) / 1000);
  if (s < 60) return Math.round(s) + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

/** code shows a value in a monospace block; objects are pretty-printed JSON. */
export function pre(value, cls = '') {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return h('pre', {class: ['code', cls], tabindex: '0'}, text ?? '');
}

/** kv shows a definition list of [label, value] pairs. */
export function kv(pairs) {
  return h('dl', {class: 'kv'}, pairs.filter(Boolean).map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

/** redactions are the values the API shows in place of a secret header value. */
const redactions = new Set(['[redacted]', '••••']);

/** headersTable shows an object of header names and values; hidden secrets are marked. */
export function headersTable(obj) {
  const keys = Object.keys(obj || {}).sort();
  if (!keys.length) return h('p', {class: 'muted'}, 'None.');
  return h('table', {class: 'headers'}, h('tbody', null,
    keys.map((k) => h('tr', null, h('th', {scope: 'row'}, k),
      h('td', null, redactions.has(obj[k]) ? h('span', {class: 'redacted', title: 'A secret: not shown'}, String(obj[k])) : String(obj[k]))))));
}

/** errorBox shows an error of a page load. */
export function errorBox(e) {
  return h('div', {class: 'banner error', role: 'alert'}, (e && e.message) || String(e));
}

/** pager adds a "Load more" button that calls more(cursor) while there is a next cursor. */
export function pager(container, next, more) {
  if (!next) return null;
  const btn = h('button', {type: 'button', class: 'btn'}, 'Load more');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try { await more(next); btn.remove(); } catch (e) { toast(e.message, 'error'); btn.disabled = false; }
  });
  container.append(btn);
  return btn;
}

/** section builds a titled section. */
export function section(title, ...children) {
  return h('section', {class: 'card'}, h('h2', null, title), children);
}

/** pageHeader builds a page heading with actions on the right. */
export function pageHeader(title, ...actions) {
  return h('div', {class: 'page-head'}, h('h1', null, title), h('div', {class: 'actions'}, actions));
}

/** button builds a button that runs fn (disabled while it runs; errors become toasts). */
export function button(label, fn, kind = '') {
  const b = h('button', {type: 'button', class: ['btn', kind]}, label);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await fn(b); } catch (e) { toast(e.message, 'error'); } finally { b.disabled = false; }
  });
  return b;
}

/** link builds an in-app link. */
export function link(href, text, cls) {
  return h('a', {href, class: cls}, text);
}

/** toRFC3339 converts a datetime-local value to RFC 3339 (UTC), '' for empty. */
export function toRFC3339(local) {
  if (!local) return '';
  const d = new Date(local);
  return isNaN(d) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** toLocalInput converts a Date to a datetime-local value. */
export function toLocalInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}

export {h, clear, replace};
