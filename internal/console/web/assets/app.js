// The app shell: it learns its scope from GET /v1/session (signing in first on
// /console/, exchanging the #token= link on /portal/), applies the branding, draws the
// navigation and routes hash URLs (#/a/{app}/endpoints...) to page modules.

import {api, setCSRF, setUnauthorizedHandler, appPath} from './api.js';
import {h, replace, clear} from './dom.js';
import {errorBox, toast} from './ui.js';

const isPortal = location.pathname.startsWith('/portal/');
const main = document.getElementById('main');

// Routes: pattern, page module, the function it exports, whether operators only.
const routes = [
  ['apps', 'apps', 'list', true],
  ['keys', 'keys', 'adminKeys', true],
  ['health', 'health', 'render', true],
  ['event-types', 'eventtypes', 'list'],
  ['event-types/new', 'eventtypes', 'edit', true],
  ['event-types/:name', 'eventtypes', 'detail'],
  ['event-types/:name/edit', 'eventtypes', 'edit', true],
  ['a/:app/endpoints', 'endpoints', 'list'],
  ['a/:app/endpoints/new', 'endpointform', 'render'],
  ['a/:app/endpoints/:ep', 'endpoint', 'render'],
  ['a/:app/endpoints/:ep/edit', 'endpointform', 'render'],
  ['a/:app/messages', 'messages', 'list'],
  ['a/:app/messages/:msg', 'message', 'render'],
  ['a/:app/recovery', 'recovery', 'render'],
  ['a/:app/sources', 'sources', 'list', true],
  ['a/:app/sources/:src', 'sources', 'detail', true],
  ['a/:app/listeners', 'listeners', 'render', true],
  ['a/:app/keys', 'keys', 'appKeys', true],
];

const state = {session: null, apps: [], app: '', cleanup: null, seq: 0};

/** parseHash splits "#/a/app_1/messages?type=x" into path segments and a query. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, qs] = raw.split('?', 2);
  return {parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: Object.fromEntries(new URLSearchParams(qs || ''))};
}

function match(parts) {
  for (const [pattern, mod, fn, consoleOnly] of routes) {
    const pp = pattern.split('/');
    if (pp.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pp.length && ok; i++) {
      if (pp[i].startsWith(':')) params[pp[i].slice(1)] = parts[i];
      else ok = pp[i] === parts[i];
    }
    if (ok && !(params.name === 'new' && fn === 'detail') && !(params.ep === 'new')) return {mod, fn, params, consoleOnly};
  }
  return null;
}

/** go navigates to an in-app hash route. */
export function go(hash) {
  if (location.hash === hash) route(); else location.hash = hash;
}

function defaultRoute() {
  const s = state.session;
  if (s.kind === 'portal') return '#/a/' + encodeURIComponent(s.app_id) + '/endpoints';
  return state.app ? '#/a/' + encodeURIComponent(state.app) + '/endpoints' : '#/apps';
}

async function route() {
  if (!state.session) return;
  const seq = ++state.seq;
  if (state.cleanup) { try { state.cleanup(); } catch { /* ignore */ } state.cleanup = null; }
  const {parts, query} = parseHash();
  if (!parts.length) { location.replace(defaultRoute()); return; }
  const m = match(parts);
  const s = state.session;
  const operator = s.kind !== 'portal';
  // The server refuses other apps anyway; this only avoids a page of errors.
  const foreign = !operator && m && m.params.app && m.params.app !== s.app_id;
  if (!m || (m.consoleOnly && !operator) || foreign) {
    replace(main, h('h1', null, 'Not found'), h('p', null, 'There is no such page here. '), h('a', {href: defaultRoute()}, 'Go to the start page'));
    drawNav(parts);
    return;
  }
  if (m.params.app) {
    state.app = m.params.app;
    if (operator) localStorage.setItem('herald.app', state.app);
  }
  drawNav(parts);
  const ctx = {
    main, params: m.params, query, session: s, app: m.params.app || state.app, operator,
    canManage: operator || (s.capabilities || []).includes('manage'),
    go, appPath: (...p) => appPath(m.params.app || state.app, ...p),
    href: (...p) => '#/a/' + encodeURIComponent(m.params.app || state.app) + '/' + p.map(encodeURIComponent).join('/'),
    cleanup(fn) { state.cleanup = fn; },
    live: () => seq === state.seq,
    refresh: route,
  };
  replace(main, h('p', {class: 'muted'}, 'Loading…'));
  try {
    const mod = await import('./pages/' + m.mod + '.js');
    if (seq !== state.seq) return;
    clear(main);
    await mod[m.fn](ctx);
    if (seq !== state.seq) return;
    document.title = (main.querySelector('h1')?.textContent || '') + ' · ' + brandName();
    // A keyboard user whose focused link was replaced continues from the new page.
    if (document.activeElement === document.body || !document.activeElement) main.focus({preventScroll: true});
  } catch (e) {
    if (seq === state.seq) replace(main, errorBox(e));
  }
}

function brandName() { return state.session?.branding?.name || 'Herald'; }

function navLink(href, text, current) {
  return h('a', {href, 'aria-current': current ? 'page' : undefined}, text);
}

function drawNav(parts) {
  const nav = document.getElementById('nav');
  const end = document.getElementById('top-end');
  const s = state.session;
  const app = state.app;
  const here = parts[0] === 'a' ? parts[2] : parts[0];
  const links = [];
  if (s.kind !== 'portal') links.push(navLink('#/apps', 'Apps', here === 'apps'));
  if (app) {
    const base = '#/a/' + encodeURIComponent(app) + '/';
    links.push(navLink(base + 'endpoints', 'Endpoints', here === 'endpoints'));
    links.push(navLink(base + 'messages', 'Messages', here === 'messages'));
    if (s.kind !== 'portal' || !(s.endpoint_ids || []).length) links.push(navLink(base + 'recovery', 'Recovery', here === 'recovery'));
    if (s.kind !== 'portal') {
      links.push(navLink(base + 'sources', 'Sources', here === 'sources'));
      links.push(navLink(base + 'listeners', 'Listeners', here === 'listeners'));
    }
  }
  links.push(navLink('#/event-types', 'Event types', here === 'event-types'));
  if (s.kind !== 'portal') {
    links.push(navLink('#/keys', 'API keys', here === 'keys'));
    links.push(navLink('#/health', 'Health', here === 'health'));
  }
  replace(nav, links);
  clear(end);
  if (s.kind === 'portal') {
    end.append(h('span', {class: 'app-name'}, s.app_name || s.app_id));
    return;
  }
  end.append(appPicker());
  const out = h('button', {type: 'button', class: 'btn subtle'}, 'Sign out');
  out.addEventListener('click', signOut);
  end.append(out);
}

function appPicker() {
  const id = 'app-picker';
  const sel = h('select', {id, class: 'picker'});
  sel.append(h('option', {value: ''}, state.apps.length ? 'Choose an app…' : 'No apps yet'));
  let found = false;
  for (const a of state.apps) {
    found ||= a.id === state.app;
    sel.append(h('option', {value: a.id, selected: a.id === state.app}, a.name + (a.uid ? ' (' + a.uid + ')' : '')));
  }
  if (state.app && !found) sel.append(h('option', {value: state.app, selected: true}, state.app));
  sel.addEventListener('change', () => {
    if (!sel.value) return;
    const {parts} = parseHash();
    const page = parts[0] === 'a' && parts[2] ? parts[2] : 'endpoints';
    go('#/a/' + encodeURIComponent(sel.value) + '/' + page);
  });
  return h('div', {class: 'picker-wrap'}, h('label', {for: id}, 'App'), sel);
}

/** loadApps fills the app picker (the first 200 apps; the Apps page searches them all). */
export async function loadApps() {
  try {
    const r = await api('GET', '/v1/apps', undefined, {query: {limit: 200}});
    state.apps = r.data || [];
  } catch (e) {
    state.apps = [];
  }
}

async function signOut() {
  try { await api('DELETE', '/v1/console/sessions/current'); } catch (e) { /* the cookie may be gone already */ }
  setCSRF('');
  state.session = null;
  showSignIn();
}

/** applyBranding sets the product name, logo, theme and accent colour. */
function applyBranding(b = {}) {
  const name = b.name || 'Herald';
  document.getElementById('brand-name').textContent = name;
  document.title = name;
  const logo = document.getElementById('brand-logo');
  if (b.logo_url && /^(https:\/\/|\/)/.test(b.logo_url)) {
    logo.src = b.logo_url;
    logo.alt = '';
    logo.hidden = false;
  } else {
    logo.hidden = true;
  }
  const root = document.documentElement;
  if (b.theme === 'light' || b.theme === 'dark') root.dataset.theme = b.theme; else delete root.dataset.theme;
  if (b.accent && /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(b.accent)) {
    // A constructed style sheet, not a style attribute: the CSP allows no inline styles.
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(':root{--accent:' + b.accent + '}');
    document.adoptedStyleSheets = [sheet];
  }
}

async function showSignIn(message) {
  document.getElementById('nav').replaceChildren();
  document.getElementById('top-end').replaceChildren();
  const mod = await import('./pages/signin.js');
  mod.render(main, message, start);
}

function showPortalError(title, text) {
  document.getElementById('nav').replaceChildren();
  replace(main, h('div', {class: 'card narrow'}, h('h1', null, title), h('p', null, text)));
}

/** start learns the session and routes; it runs at load and after signing in. */
async function start() {
  let s;
  try {
    s = await api('GET', '/v1/session', undefined, {quiet401: true});
  } catch (e) {
    if (e.status === 401) {
      if (isPortal) showPortalError('This link has expired', 'Portal links work once and for a limited time. Ask for a new link.');
      else showSignIn();
      return;
    }
    replace(main, errorBox(e));
    return;
  }
  applyBranding(s.branding);
  if (isPortal && s.kind !== 'portal') {
    showPortalError('Open a portal link', 'This page shows one app to its customers. Operators use the console at /console/.');
    return;
  }
  if (!isPortal && s.kind === 'portal') {
    showSignIn();
    return;
  }
  setCSRF(s.csrf_token);
  state.session = s;
  if (s.kind !== 'portal') {
    state.app = localStorage.getItem('herald.app') || '';
    await loadApps();
    if (state.app && !state.apps.some((a) => a.id === state.app)) state.app = state.apps[0]?.id || '';
    else if (!state.app) state.app = state.apps[0]?.id || '';
  } else {
    state.app = s.app_id;
  }
  route();
}

async function boot() {
  setUnauthorizedHandler(() => {
    if (!state.session) return;
    state.session = null;
    if (isPortal) showPortalError('Your session has ended', 'Ask for a new portal link.');
    else showSignIn('Your session has ended; sign in again.');
  });
  window.addEventListener('hashchange', () => {
    if (isPortal && location.hash.startsWith('#token=')) { location.reload(); return; }
    route();
  });
  const m = /^#token=([^&]+)/.exec(location.hash);
  if (isPortal && m) {
    // The token leaves the address bar and history before it is used.
    history.replaceState(null, '', location.pathname + location.search);
    try {
      const r = await api('POST', '/v1/portal/sessions', {token: decodeURIComponent(m[1])}, {quiet401: true});
      setCSRF(r.csrf_token);
    } catch (e) {
      if (e.status === 401) showPortalError('This link has expired', 'Portal links work once and for a limited time. Ask for a new link.');
      else showPortalError('This link did not work', e.message);
      return;
    }
  }
  await start();
}

window.addEventListener('unhandledrejection', (ev) => toast(String(ev.reason?.message || ev.reason), 'error'));
boot();

export {state};
