// One endpoint: health chart, settings, signing secret, test events, recovery and its
// latest attempts (refreshed live).

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {
  badge, button, confirm, dialog, field, kv, link, pageHeader, section, table, toast, when, ago,
  headersTable, toLocalInput, toRFC3339,
} from '../ui.js';
import {barChart} from '../chart.js';
import {healthText} from './endpoints.js';
import {catalogue} from './eventtypes.js';
import {routingSummary} from './routing.js';

/** render renders the endpoint page. */
export async function render(ctx) {
  const id = ctx.params.ep;
  let ep = await api('GET', ctx.appPath('endpoints', id));
  const head = h('div');
  const healthBody = h('div');
  const attemptsBody = h('div', {id: 'attempts', 'aria-live': 'polite'});
  const drawHead = () => {
    const acts = [];
    if (ctx.canManage) {
      acts.push(link(ctx.href('endpoints', id, 'edit'), 'Edit', 'btn'));
      acts.push(ep.state === 'enabled'
        ? button('Pause', () => setState('paused'))
        : button('Resume', () => setState('enabled')));
      acts.push(button('Send test event', () => testEvent(ctx, ep, refreshAttempts), 'primary'));
      acts.push(button('Delete', async () => {
        if (!await confirm('Delete this endpoint?', `${ep.url} and its deliveries will be deleted. This cannot be undone.`, 'Delete endpoint')) return;
        await api('DELETE', ctx.appPath('endpoints', id));
        toast('Endpoint deleted.');
        ctx.go(ctx.href('endpoints'));
      }, 'danger'));
    }
    replace(head, pageHeader(ep.url, ...acts),
      h('p', {class: 'sub'}, badge(ep.state), ' ', h('code', null, ep.id),
        ep.failing_since && h('span', {class: 'error-text'}, ' failing since ', when(ep.failing_since)),
        ep.disabled_reason && h('span', {class: 'muted'}, ' — ' + ep.disabled_reason)));
  };
  const setState = async (state) => {
    ep = await api('PATCH', ctx.appPath('endpoints', id), {state});
    toast(state === 'paused' ? 'Endpoint paused: deliveries wait until you resume it.' : 'Endpoint resumed.');
    drawHead();
  };
  drawHead();

  const summary = h('div'), chart = h('div');
  const range = field('Chart', 'range', {tag: 'select', options: chartRanges.map(([v, t]) => [v, t]), value: '24h'});
  const rangeSel = range.querySelector('select');
  append(healthBody, summary, h('div', {class: 'chart-head'}, range), chart);
  const loadHealth = async () => {
    let st = null;
    try { st = await api('GET', ctx.appPath('endpoints', id, 'stats')); } catch (e) {
      replace(summary, h('p', {class: 'muted'}, 'Health is not available: ' + e.message));
      return;
    }
    replace(summary, kv([
      ['Success (24 h)', healthText(st)],
      ['Succeeded', String(st.succeeded)],
      ['Failed', String(st.failed)],
      ['Last attempt', st.last_attempt_at ? ago(st.last_attempt_at) : '—'],
      ['Last error', st.last_error ? h('span', {class: 'error-text'}, st.last_error) : '—'],
    ]));
    await loadChart();
  };
  const loadChart = async () => {
    const [, label, bucket, span] = chartRanges.find(([v]) => v === rangeSel.value);
    const st = await api('GET', ctx.appPath('endpoints', id, 'stats'), undefined, {query: chartQuery(bucket, span)});
    if (!ctx.live()) return;
    replace(chart, barChart(st.buckets || [], `Attempts to ${ep.url} over the last ${label}, succeeded and failed`));
  };
  rangeSel.addEventListener('change', () => loadChart().catch((e) => toast(e.message, 'error')));

  async function refreshAttempts() {
    const r = await api('GET', ctx.appPath('attempts'), undefined, {query: {endpoint_id: id, limit: 15}});
    if (!ctx.live()) return;
    replace(attemptsBody, table(['Time', 'Outcome', 'Status', 'Latency', 'Error', 'Message'], (r.data || []).map((a) => [
      when(a.started_at), badge(a.outcome), a.status_code ? String(a.status_code) : '—',
      Math.round(a.latency_ms) + ' ms', a.error ? h('span', {class: 'error-text clip', title: a.error}, a.error) : '—',
      link(ctx.href('messages', a.message_id), a.message_id, 'mono'),
    ]), 'No attempts yet. Send a test event to see one here.'));
  }

  append(ctx.main, head,
    section('Health', healthBody),
    section('Settings', kv([
      ['Description', ep.description || '—'],
      ['Event types', ep.event_types && ep.event_types.length ? ep.event_types.join(', ') : 'all types'],
      ['Rate limit', ep.rate_limit ? ep.rate_limit + ' requests/s' : 'unlimited'],
      ['Concurrency', ep.max_concurrency ? String(ep.max_concurrency) : 'server default'],
      ['Timeout', ep.timeout_ms ? ep.timeout_ms + ' ms' : 'server default'],
      ['FIFO', ep.fifo ? 'yes: one delivery at a time, in order' : 'no'],
      ...routingSummary(ep),
      ['Created', when(ep.created_at)],
    ]), h('h3', null, 'Custom headers'), headersTable(ep.headers)),
    ctx.canManage && secretSection(ctx, ep),
    ctx.canManage && recoverySection(ctx, ep, refreshAttempts),
    section('Latest attempts', attemptsBody));
  await Promise.all([loadHealth(), refreshAttempts()]);
  const refreshHead = async () => {
    const e = await api('GET', ctx.appPath('endpoints', id));
    if (!ctx.live()) return;
    const changed = ['state', 'failing_since', 'disabled_reason'].some((k) => e[k] !== ep[k]);
    ep = e;
    if (changed) drawHead();
  };
  const timer = setInterval(() => { refreshAttempts().catch(() => {}); refreshHead().catch(() => {}); }, 3000);
  const healthTimer = setInterval(() => { loadHealth().catch(() => {}); }, 30000);
  ctx.cleanup(() => { clearInterval(timer); clearInterval(healthTimer); });
}

/** chartRanges are the endpoint chart's ranges: value, label, bucket and span in hours. */
const chartRanges = [['24h', '24 hours, hourly', 1, 24], ['7d', '7 days, every 6 hours', 6, 7 * 24], ['30d', '30 days, daily', 24, 30 * 24]];

/**
 * chartQuery returns the stats query of a chart of span hours in buckets of bucket
 * hours, ending with the bucket that holds now: UTC bucket boundaries, so that the
 * server counts whole hours from its per-hour counts.
 */
function chartQuery(bucket, span) {
  const b = bucket * 3600e3;
  const until = Math.floor(Date.now() / b) * b + b;
  const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {bucket: bucket * 3600, since: iso(until - span * 3600e3), until: iso(until)};
}

/** secretSection reveals and rotates the endpoint's signing secret. */
function secretSection(ctx, ep) {
  const body = h('div', null, h('p', {class: 'muted'}, 'The secret signs every webhook (Standard Webhooks). It stays hidden until you reveal it.'));
  const show = (r) => replace(body, table(['Secret', 'Created', 'Expires'], (r.secrets || []).map((s) => [
    h('code', {class: 'secret'}, s.secret), when(s.created_at), s.expires_at ? when(s.expires_at) : 'current',
  ])));
  return section('Signing secret', body, h('div', {class: 'actions'},
    button('Reveal secret', async () => show(await api('GET', ctx.appPath('endpoints', ep.id, 'secret')))),
    button('Rotate secret', async () => {
      const grace = field('Old secret keeps signing for (hours)', 'grace_period_seconds', {type: 'number', min: 0, max: 168, value: 24});
      const r = await dialog({
        title: 'Rotate the signing secret?',
        body: [h('p', null, 'A new secret signs from now on. During the grace period the old one signs too, so receivers can switch over.'), grace],
        actions: [{label: 'Cancel'}, {label: 'Rotate', kind: 'primary', submit: true}],
        onSubmit: async (f) => {
          const hours = Number(f.elements.grace_period_seconds.value || 0);
          return api('POST', ctx.appPath('endpoints', ep.id, 'secret', 'rotate'), {grace_period_seconds: Math.round(hours * 3600)});
        },
      });
      if (r && r.secrets) { show(r); toast('Secret rotated.'); }
    })));
}

/** recoverySection re-sends failed (or all) deliveries since a time, page by page. */
function recoverySection(ctx, ep, after) {
  const since = field('Since', 'since', {type: 'datetime-local', value: toLocalInput(new Date(Date.now() - 24 * 3600e3))});
  const which = field('Deliveries', 'status', {tag: 'select', options: [['failed', 'failed ones (recover failed)'], ['', 'all of them (replay)']], value: 'failed'});
  const progress = h('p', {class: 'progress', role: 'status', 'aria-live': 'polite'});
  let stop = false;
  const cancel = h('button', {type: 'button', class: 'btn', hidden: true}, 'Stop');
  cancel.addEventListener('click', () => { stop = true; });
  const go = button('Recover', async () => {
    const sinceValue = toRFC3339(since.querySelector('input').value);
    const status = which.querySelector('select').value;
    stop = false;
    cancel.hidden = false;
    let total = 0, next = '';
    try {
      do {
        const r = await api('POST', ctx.appPath('endpoints', ep.id, 'replay'),
          {status: status || undefined, since: sinceValue || undefined, after: next || undefined, limit: 500});
        total += r.replayed;
        next = r.next || '';
        progress.textContent = `Queued ${total} deliveries again` + (next ? '… (continuing)' : '. Done.');
      } while (next && !stop && ctx.live());
      if (stop) progress.textContent = `Stopped after ${total} deliveries.`;
      after().catch(() => {});
    } finally {
      cancel.hidden = true;
    }
  }, 'primary');
  return section('Recovery', h('p', {class: 'muted'}, 'Send deliveries of this endpoint again, for example after it was down.'),
    h('div', {class: 'inline-form'}, since, which, h('div', {class: 'actions'}, go, cancel)), progress);
}

/** testEvent asks for an event type and sends a test message to this endpoint only. */
async function testEvent(ctx, ep, after) {
  const types = await catalogue();
  const active = types.filter((t) => !t.deprecated);
  const example = (name) => {
    const t = types.find((x) => x.name === name);
    return JSON.stringify(t && t.example ? t.example : {type: name, test: true}, null, 2);
  };
  const typeField = active.length
    ? field('Event type', 'event_type', {tag: 'select', options: active.map((t) => [t.name, t.name + (t.description ? ' — ' + t.description : '')])})
    : field('Event type', 'event_type', {required: true, placeholder: 'invoice.paid'}, 'The catalogue is empty; type any event type.');
  const payload = field('Payload (JSON)', 'payload', {tag: 'textarea', rows: 8, class: 'mono', spellcheck: 'false'}, 'Defaults to the catalogue example of the type.');
  const sel = typeField.querySelector('select, input');
  const ta = payload.querySelector('textarea');
  ta.value = example(sel.value || 'test');
  sel.addEventListener('change', () => { ta.value = example(sel.value); });
  const msg = await dialog({
    title: 'Send a test event',
    body: [h('p', null, 'It goes to ', h('strong', null, ep.url), ' only.'), typeField, payload],
    actions: [{label: 'Cancel'}, {label: 'Send', kind: 'primary', submit: true}],
    onSubmit: async (f) => {
      let body;
      try { body = f.elements.payload.value.trim() ? JSON.parse(f.elements.payload.value) : undefined; } catch (e) {
        const err = new Error('payload is not valid JSON: ' + e.message);
        err.field = 'payload';
        throw err;
      }
      return api('POST', ctx.appPath('endpoints', ep.id, 'test'), {event_type: f.elements.event_type.value, payload: body});
    },
  });
  if (msg && msg.id) {
    toast('Test event sent (' + msg.id + '). Its attempt appears below.');
    setTimeout(() => after().catch(() => {}), 700);
  }
}

