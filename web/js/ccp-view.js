// The CCP page's view: what the agent sees of their status and of the backstop (header, banner, notice, status
// buttons, the demo agent picker). Plain DOM on a document it is given, so node's tests run it on a DOM
// implementation (linkedom) and ccp-page.js only boots.
import { STATE } from '@ccp-backstop/client';

/**
 * @param {Document} doc
 * @param {object} [options]
 * @param {() => Date} [options.now]
 */
export function createCcpView(doc, { now = () => new Date() } = {}) {
  const $ = (selector) => doc.querySelector(selector);
  /** The page's sign-in, once the page made it: the banner's "Sign in again" uses it. */
  let signInFlow = null;
  /** Set when the server closed this tab's session (410): the reconnect then says what became of the status. */
  let closedByServerAt = null;

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

  function showBanner(text, action) {
    const banner = $('#banner');
    banner.textContent = text;
    if (action) {
      const button = doc.createElement('button');
      button.type = 'button';
      button.textContent = action.label;
      button.addEventListener('click', action.run);
      banner.append(' ', button);
    }
    banner.hidden = false;
  }

  function showRestore({ outcome, status }) {
    // For people and tests alike: what became of the status the agent had before the reload.
    doc.body.dataset.restore = outcome;
    const texts = {
      restored: `Your status before the reload (${status.name}) was restored.`,
      'not-offline': `Your status was not restored: it changed since the reload (it was ${status.name}).`,
      'unknown-status': `Your status before the reload (${status.name}) no longer exists; choose one.`,
      failed: `Your status before the reload (${status.name}) could not be restored; set it yourself.`,
    };
    showNotice(texts[outcome] ?? '');
  }

  function setBackstopState(state, detail) {
    doc.body.dataset.backstop = state;
    if (state === STATE.ERROR && signInFlow && (detail?.error === 'signed-out' || detail?.error === 'unauthenticated')) {
      // The sign-in ran out (no refresh token, or the provider refused it) when the page had to register again.
      // Signing in leaves the page for the identity provider; during a live call the browser asks first (the
      // leave-page guard), so it is the agent's choice, never automatic.
      showBanner('Your sign-in has expired, so this CCP is not protected: closing it would not set you Offline.',
        { label: 'Sign in again', run: () => signInFlow.signIn().catch((error) => signInFailed(error)) });
    }
    if (state === STATE.OPEN && detail?.renewal === 'failed') {
      // The session could not be renewed ahead of its end (the sign-in could not be refreshed, or the backstop did
      // not answer): the tab is protected until then, and the client tries again by itself.
      const until = detail.expiresAt ? ` until ${new Date(detail.expiresAt).toLocaleTimeString()}` : '';
      const signIn = detail.error === 'signed-out' || detail.error === 'unauthenticated';
      showBanner(signIn
        ? `Your sign-in could not be renewed: this CCP stays protected${until}. Sign in again to stay protected after that.`
        : `The backstop session could not be renewed (${detail.error}): this CCP stays protected${until}; retrying. If this lasts, sign in again.`,
      signInFlow ? { label: 'Sign in again', run: () => signInFlow.signIn().catch((error) => signInFailed(error)) } : undefined);
    }
    if (state === STATE.OPEN && (closedByServerAt || detail?.recovered || detail?.reason === 'session-lost' || detail?.reason === 'renewed')) {
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
      if (detail.status === 410) closedByServerAt = now();
      showBanner(detail.status === 410
        ? 'This CCP lost contact with the backstop for too long (sleep or network loss), so you were set Offline. Check your status before taking calls.'
        : 'This CCP was signed out of the backstop; reconnecting.');
    }
    const others = detail?.otherSessions ?? 0;
    if (state === STATE.OPEN) doc.body.dataset.otherSessions = String(others);
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
    doc.body.dataset.contact = adapter.onContact?.() ? 'live' : 'none';
    const status = adapter.currentStatus();
    const next = adapter.nextStatus?.();
    $('#agent-name').textContent = adapter.agentName?.() ?? '';
    $('#status-name').textContent = status ? status.name : '—';
    $('#status-name').dataset.type = status?.type ?? '';
    $('#next-status').textContent = next ? `Next: ${next}` : '';
    const list = $('#status-buttons');
    list.replaceChildren(...adapter.statuses().map((s) => {
      const button = doc.createElement('button');
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
      const item = doc.createElement('li');
      const link = doc.createElement('a');
      link.href = `?agent=${encodeURIComponent(a.userId)}`;
      link.textContent = `${a.name} (${a.userId})`;
      item.append(link);
      return item;
    }));
  }

  function signInFailed(error) {
    doc.body.dataset.backstop = STATE.ERROR;
    doc.body.dataset.signIn = 'failed';
    showBanner(`Sign-in failed: ${error.message}. The backstop does not protect this tab until you sign in; reload to try again.`);
    $('#backstop-state').textContent = 'Not signed in: not protected.';
  }

  return {
    setBackstopState,
    showRestore,
    renderStatus,
    showAgentPicker,
    signInFailed,
    showNotice,
    /** The sign-in flow the banner's "Sign in again" runs. */
    useSignIn(flow) { signInFlow = flow; },
    signingIn() { $('#backstop-state').textContent = 'Signing in…'; },
  };
}
