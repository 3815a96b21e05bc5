// Sign in: an admin API key is exchanged for the session cookie. The key lives only in
// the input while the request runs; it is never stored.

import {api, setCSRF} from '../api.js';
import {h, replace} from '../dom.js';
import {field, form} from '../ui.js';

/** render shows the sign-in form; done runs once signed in. */
export function render(main, message, done) {
  const f = form([
    field('Admin API key', 'api_key', {type: 'password', autocomplete: 'off', required: true, spellcheck: 'false'},
      'An admin key (hk_…). It is exchanged for a session and not kept by the browser.'),
  ], async (el) => {
    const input = el.elements.api_key;
    const key = input.value.trim();
    if (!key) {
      const e = new Error('api_key is required');
      e.field = 'api_key';
      throw e;
    }
    try {
      const r = await api('POST', '/v1/console/sessions', {api_key: key}, {quiet401: true});
      setCSRF(r.csrf_token);
    } catch (e) {
      const err = new Error(e.status === 401 ? 'This key is not a valid API key.'
        : e.status === 403 ? 'This is an app key; the console needs an admin key.'
          : e.status === 429 ? 'Too many attempts; try again in ' + (e.retryAfter || 'a minute') + ' s.'
            : e.message);
      err.field = 'api_key';
      throw err;
    } finally {
      input.value = '';
    }
    await done();
  }, 'Sign in');
  replace(main, h('div', {class: 'card narrow signin'}, h('h1', null, 'Sign in'),
    message && h('p', {class: 'banner'}, message), f));
  f.elements.api_key.focus();
}
