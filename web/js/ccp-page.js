// Boots the CCP page: reads its configuration, picks Streams (production) or the simulated Streams (local),
// adds the backstop from the client package (@ccp-backstop/client, as any custom CCP would: ccp.html's import map
// resolves it), and renders the agent's status and the backstop's session state.
import { createBackstop, createStreamsAdapter, STATE } from '@ccp-backstop/client';
import { createSignIn } from '@ccp-backstop/client/sign-in';
import { createSimulatedStreams } from './simulated-streams.js';

const $ = (selector) => document.querySelector(selector);
const STREAMS_URL = 'node_modules/amazon-connect-streams/release/connect-streams-min.js';

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`amazon-connect-streams did not load from ${src} (run npm ci in web/)`));
    document.head.append(script);
  });
}

/** The page's sign-in, once main() made it: the banner's "Sign in again" uses it. */
let signInFlow = null;

function hideBanner() {
  const banner = $('#banner');
  banner.replaceChildren();
  banner.hidden = true;
}

function showNotice(text) {
  const notice = $('#notice');
  notice.textContent = text;
  notice.hidden = !text;
}

/** Set when the server closed this tab's session (410): the reconnect then says what became of the status. */
let closedByServerAt = null;

function showBanner(text, action) {
  const banner = $('#banner');
  banner.textContent = text;
  if (action) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = action.label;
    button.addEventListener('click', action.run);
    banner.append(' ', button);
  }
  banner.hidden = false;
}

function showRestore({ outcome, status }) {
  // For people and tests alike: what became of the status the agent had before the reload.
  document.body.dataset.restore = outcome;
  const texts = {
    restored: `Your status before the reload (${status.name}) was restored.`,
    'not-offline': `Your status was not restored: it changed since the reload (it was ${status.name}).`,
    'unknown-status': `Your status before the reload (${status.name}) no longer exists; choose one.`,
    failed: `Your status before the reload (${status.name}) could not be restored; set it yourself.`,
  };
  showNotice(texts[outcome] ?? '');
}

function setBackstopState(state, detail) {
  document.body.dataset.backstop = state;
  if (state === STATE.ERROR && signInFlow && (detail?.error === 'signed-out' || detail?.error === 'unauthenticated')) {
    // The sign-in ran out (no refresh token, or the provider refused it) when the page had to register again.
    // Signing in leaves the page for the identity provider; during a live call the browser asks first (the
    // leave-page guard), so it is the agent's choice, never automatic.
    showBanner('Your sign-in has expired, so this CCP is not protected: closing it would not set you Offline.',
      { label: 'Sign in again', run: () => signInFlow.signIn().catch((error) => signInFailed(error)) });
  }
  if (state === STATE.OPEN && (closedByServerAt || detail?.recovered || detail?.reason === 'session-lost')) {
    // Connected again: the alarm gives way to a plain notice the agent can act on.
    hideBanner();
    if (closedByServerAt) {
      showNotice(`Reconnected. You were set Offline at ${closedByServerAt.toLocaleTimeString()} while this CCP was out of contact: choose your status.`);
      closedByServerAt = null;
    }
  }
  if (state === STATE.DEGRADED) {
    showBanner(detail?.error === 'heartbeat-failed'
      ? 'This CCP cannot keep its backstop session alive (heartbeats cannot run): closing it may not set you Offline. Reload the page.'
      : 'The backstop is not answering this CCP right now: closing it may not set you Offline. Retrying…');
  }
  if (state === STATE.CLOSED && detail?.byServer) {
    // The server closed this tab's session (no heartbeat came for too long: sleep, network loss), which set
    // the agent Offline. Say so plainly; the page registers again by itself.
    if (detail.status === 410) closedByServerAt = new Date();
    showBanner(detail.status === 410
      ? 'This CCP lost contact with the backstop for too long (sleep or network loss), so you were set Offline. Check your status before taking calls.'
      : 'This CCP was signed out of the backstop; reconnecting.');
  }
  const others = detail?.otherSessions ?? 0;
  if (state === STATE.OPEN) document.body.dataset.otherSessions = String(others);
  const labels = {
    [STATE.IDLE]: 'Waiting for the agent…',
    [STATE.REGISTERING]: 'Connecting the backstop…',
    [STATE.OPEN]: others > 0
      ? `Protected: you have ${others} other CCP${others === 1 ? '' : 's'} open, so closing this one keeps your status; closing the last sets you Offline.`
      : 'Protected: closing this tab sets you Offline.',
    [STATE.DEGRADED]: 'Backstop unreachable: not protected right now.',
    [STATE.CLOSED]: 'Session closed.',
    [STATE.ERROR]: detail?.message ? `Backstop problem: ${detail.message}` : 'Backstop unreachable, retrying…',
  };
  $('#backstop-state').textContent = labels[state] ?? state;
}

function renderStatus(adapter) {
  document.body.dataset.contact = adapter.onContact?.() ? 'live' : 'none';
  const status = adapter.currentStatus();
  const next = adapter.nextStatus?.();
  $('#agent-name').textContent = adapter.agentName?.() ?? '';
  $('#status-name').textContent = status ? status.name : '—';
  $('#status-name').dataset.type = status?.type ?? '';
  $('#next-status').textContent = next ? `Next: ${next}` : '';
  const list = $('#status-buttons');
  list.replaceChildren(...adapter.statuses().map((s) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = s.name;
    button.dataset.statusType = s.type ?? '';
    button.setAttribute('aria-pressed', String(status?.arn === s.arn));
    button.addEventListener('click', () => adapter.setStatus(s).then(() => renderStatus(adapter),
      (error) => showNotice(`Your status could not be set to ${s.name}: ${error?.message ?? error}.`)));
    return button;
  }));
}

function showAgentPicker(config) {
  const section = $('#picker');
  section.hidden = false;
  const list = section.querySelector('ul');
  list.replaceChildren(...config.agents.map((a) => {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = `?agent=${encodeURIComponent(a.userId)}`;
    link.textContent = `${a.name} (${a.userId})`;
    item.append(link);
    return item;
  }));
}

/**
 * Signs the agent in with the contact centre's identity provider before anything else (production: before the
 * CCP and its softphone load, so the redirect drops nothing). Resolves to the token source, or to null when the
 * page is on its way to the identity provider.
 */
async function signInFirst(auth, returned, loginHint) {
  const signIn = createSignIn({ issuer: auth.issuer, clientId: auth.clientId, scope: auth.scope, loginHint });
  if (await signIn.getToken()) return signIn;
  if (returned) throw new Error('the identity provider signed you in but gave no usable ID token');
  $('#backstop-state').textContent = 'Signing in…';
  await signIn.signIn();
  return null;
}

function signInFailed(error) {
  document.body.dataset.backstop = STATE.ERROR;
  document.body.dataset.signIn = 'failed';
  showBanner(`Sign-in failed: ${error.message}. The backstop does not protect this tab until you sign in; reload to try again.`);
  $('#backstop-state').textContent = 'Not signed in: not protected.';
}

async function main() {
  const config = await fetch('config.json', { cache: 'no-store' }).then((r) => r.json());
  let returned = false;
  if (config.auth) {
    try {
      // Back from the identity provider? Finish that first: it also puts the page's own address (?agent=) back.
      returned = await createSignIn({ issuer: config.auth.issuer, clientId: config.auth.clientId }).completeCallback();
    } catch (error) {
      signInFailed(error);
      return;
    }
  }
  const userId = config.mode === 'local' ? new URLSearchParams(location.search).get('agent') : null;
  if (config.mode === 'local' && !userId) {
    showAgentPicker(config);
    return;
  }
  let signIn = null;
  if (config.auth) {
    try {
      // Locally the demo agent is the login hint: the local IdP signs them in at once.
      signIn = await signInFirst(config.auth, returned, userId ?? undefined);
    } catch (error) {
      signInFailed(error);
      return;
    }
    if (!signIn) return; // on the way to the identity provider
    signInFlow = signIn;
    document.body.dataset.signIn = 'done';
  }
  let adapter;
  if (config.mode === 'local') {
    adapter = createSimulatedStreams({ emulatorBase: config.emulatorBase, instanceId: config.instanceId,
      instanceArn: config.instanceArn, userId });
  } else {
    // Production: the real CCP in an iframe, Streams from npm, pinned in web/package.json (README "Hosting the page").
    await loadScript(config.streamsUrl ?? STREAMS_URL);
    globalThis.connect.core.initCCP($('#ccp-frame'), { ccpUrl: config.ccpUrl, region: config.region, softphone: { allowFramedSoftphone: true } });
    adapter = createStreamsAdapter(globalThis.connect);
  }
  $('#console').hidden = false;
  setBackstopState(STATE.IDLE);
  // The integration README shows: one call, the rest is the client's.
  createBackstop({
    adapter,
    apiBase: config.apiBase,
    getToken: signIn ? () => signIn.getToken() : undefined,
    onChange: setBackstopState,
    onRestore: showRestore,
  });
  adapter.onAgent(() => renderStatus(adapter));
  adapter.onStatusChange?.(() => renderStatus(adapter));
  if (adapter.connect) await adapter.connect();
}

main().catch((error) => {
  document.body.dataset.backstop = STATE.ERROR;
  $('#backstop-state').textContent = `The page could not start: ${error.message}`;
});
