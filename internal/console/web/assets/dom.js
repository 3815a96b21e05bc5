// DOM helpers. Every piece of data goes into the page as text (textContent or an
// attribute value), never as HTML: nothing here parses markup.

const forbidden = /^(on|style$|srcdoc$|formaction$)/i;

/**
 * h builds an element: h('a', {href: '#/x', class: 'btn', on: {click: fn}}, 'text', child).
 * Children may be strings (added as text), nodes, arrays, or null/false (skipped).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  setProps(el, props);
  append(el, children);
  return el;
}

const svgNS = 'http://www.w3.org/2000/svg';

/** s builds an SVG element, like h. */
export function s(tag, props, ...children) {
  const el = document.createElementNS(svgNS, tag);
  setProps(el, props);
  append(el, children);
  return el;
}

function setProps(el, props) {
  if (!props) return;
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'text') {
      el.textContent = String(v);
    } else if (k === 'class') {
      el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    } else if (k === 'value' && 'value' in el) {
      el.value = v;
    } else if (k === 'checked' || k === 'selected') {
      el[k] = !!v;
    } else if (forbidden.test(k)) {
      throw new Error('dom: attribute ' + k + ' is not allowed');
    } else if (k === 'href' && !safeHref(String(v))) {
      throw new Error('dom: unsafe href');
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
}

/** safeHref allows in-app routes and http(s) links only. */
export function safeHref(v) {
  return v.startsWith('#') || /^https?:\/\//i.test(v) || v.startsWith('/');
}

/** append adds children (strings as text nodes) to el. */
export function append(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** clear removes every child of el. */
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** replace replaces el's children. */
export function replace(el, ...children) {
  clear(el);
  return append(el, children);
}
