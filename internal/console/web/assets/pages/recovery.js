// Recovery: replay an app's finished deliveries across all its endpoints, by time
// range, status and event type. The replay runs on the server (POST /v1/apps/{app}/replay);
// this page follows its progress live and lists the app's replays.

import {api} from '../api.js';
import {h, append, replace} from '../dom.js';
import {badge, button, field, form, pageHeader, section, table, toast, toLocalInput, toRFC3339, when} from '../ui.js';
import {catalogue} from './eventtypes.js';

/** render renders the recovery page. */
export async function render(ctx) {
  const scoped = (ctx.session.endpoint_ids || []).length > 0;
  append(ctx.main, pageHeader('Recovery'),
    h('p', {class: 'muted'}, 'Send this app\'s deliveries again, to every endpoint at once, for example after an outage. ',
      'To recover one endpoint, use the Recovery section of its page.'));
  if (scoped) {
    append(ctx.main, h('p', {class: 'banner'}, 'This session sees some of the app\'s endpoints only; replays reach all of them, so they are not available here.'));
    return;
  }
  const progress = h('div', {id: 'replay-progress', 'aria-live': 'polite'});
  const history = h('div');
  const refreshHistory = async () => {
    const r = await api('GET', ctx.appPath('replays'), undefined, {query: {limit: 20}});
    if (!ctx.live()) return;
    replace(history, table(['Started', 'Messages from', 'until', 'Status', 'Event types', 'State', 'Queued', 'Progress', ''], (r.data || []).map((j) => [
      when(j.created_at), j.since ? when(j.since) : 'the first', when(j.until), j.status.length ? j.status.join(', ') : 'all finished',
      j.event_types.length ? h('span', {class: 'mono'}, j.event_types.join(', ')) : 'all types', badge(j.state), String(j.done),
      Math.round(j.progress * 100) + '%',
      j.state === 'running' ? button('Watch', () => track(j)) : '',
    ]), 'No replay yet.'));
  };
  let watching = '';
  const track = async (job) => {
    watching = job.id;
    let j = job;
    while (ctx.live() && watching === job.id) {
      drawProgress(ctx, progress, j, () => { watching = ''; refreshHistory().catch(() => {}); });
      if (j.state !== 'running') break;
      await new Promise((r) => setTimeout(r, 1000));
      if (!ctx.live() || watching !== job.id) return;
      j = await api('GET', ctx.appPath('replays', job.id));
    }
    if (ctx.live()) {
      if (j.state === 'done') toast(`Replay finished: ${j.done} ${j.done === 1 ? 'delivery' : 'deliveries'} queued again.`);
      await refreshHistory();
    }
  };
  if (ctx.canManage) append(ctx.main, section('Replay by time range, status and event type', await replayForm(ctx, track), progress));
  append(ctx.main, section('Replays of this app', history));
  await refreshHistory();
  const running = await api('GET', ctx.appPath('replays'), undefined, {query: {limit: 1}}).then((r) => (r.data || [])[0]).catch(() => null);
  if (running && running.state === 'running') track(running).catch((e) => toast(e.message, 'error'));
}

/** replayForm builds the form that starts a replay and then tracks it. */
async function replayForm(ctx, track) {
  const types = await catalogue().catch(() => []);
  const boxes = types.map((t, i) => h('div', {class: 'check'},
    h('input', {type: 'checkbox', id: 'rt-' + i, name: 'event_type', value: t.name}),
    h('label', {for: 'rt-' + i}, h('span', {class: 'mono'}, t.name), t.deprecated ? ' (deprecated)' : '')));
  return form([
    h('div', {class: 'row'},
      field('Messages published from', 'since', {type: 'datetime-local', value: toLocalInput(new Date(Date.now() - 24 * 3600e3))}),
      field('until (empty: now)', 'until', {type: 'datetime-local'})),
    h('fieldset', {class: 'field', 'data-field': 'status'}, h('legend', null, 'Deliveries'),
      h('div', {class: 'checks'},
        h('div', {class: 'check'}, h('input', {type: 'checkbox', id: 'rs-failed', name: 'status', value: 'failed', checked: true}), h('label', {for: 'rs-failed'}, 'failed')),
        h('div', {class: 'check'}, h('input', {type: 'checkbox', id: 'rs-succeeded', name: 'status', value: 'succeeded'}), h('label', {for: 'rs-succeeded'}, 'succeeded'))),
      h('p', {class: 'hint'}, 'None checked replays both. Pending deliveries are never replayed, nor those to disabled endpoints.'),
      h('span', {class: 'field-error', hidden: true})),
    h('fieldset', {class: 'field', 'data-field': 'event_types'}, h('legend', null, 'Event types'),
      h('p', {class: 'hint'}, 'Pick none to replay every type.'),
      boxes.length ? h('div', {class: 'checks'}, boxes) : null,
      field('Other types or wildcards (comma-separated)', 'event_types_other', {placeholder: 'invoice.*', class: 'mono', autocomplete: 'off'}),
      h('span', {class: 'field-error', hidden: true})),
  ], async (el) => {
    const status = [...el.querySelectorAll('input[name=status]:checked')].map((c) => c.value);
    const eventTypes = [...el.querySelectorAll('input[name=event_type]:checked')].map((c) => c.value)
      .concat(el.elements.event_types_other.value.split(',').map((s) => s.trim()).filter(Boolean));
    const body = {since: toRFC3339(el.elements.since.value) || undefined, until: toRFC3339(el.elements.until.value) || undefined,
      status, event_types: eventTypes};
    const j = await api('POST', ctx.appPath('replay'), body);
    toast('Replay started on the server; it goes on if you leave this page.');
    track(j).catch((e) => toast(e.message, 'error'));
  }, 'Start replay');
}

/** drawProgress shows a replay's progress, with a button that cancels it while it runs. */
function drawProgress(ctx, box, j, stopped) {
  const pct = Math.round(j.progress * 100);
  const cancel = j.state === 'running' && ctx.canManage && button('Cancel replay', async () => {
    const c = await api('POST', ctx.appPath('replays', j.id, 'cancel'));
    drawProgress(ctx, box, c, stopped);
    stopped();
    toast('Replay cancelled; what it queued stays queued.');
  }, 'danger');
  replace(box, h('div', {class: 'replay-progress'},
    h('p', {class: 'progress'}, 'Replay ', h('code', null, j.id), ' ', badge(j.state)),
    h('progress', {max: 100, value: pct, 'aria-label': 'Replay progress'}, pct + '%'),
    h('p', {class: 'stat-line'}, h('strong', {class: 'replay-done'}, String(j.done)), j.done === 1 ? ' delivery' : ' deliveries',
      ' queued again · ', String(j.messages_scanned), ' messages looked at · ', pct + '% of the time range'),
    j.error && h('p', {class: 'error-text'}, j.error),
    cancel && h('div', {class: 'actions'}, cancel)));
}
