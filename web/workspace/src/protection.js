// The backstop inside the workspace, once the service has started: reads the site's config.json, learns the
// agent from the workspace (AgentClient), signs them in with the contact centre's identity provider (popup, PKCE,
// tokens in memory) and runs the very client a custom CCP runs (@ccp-backstop/client: register with the JWT,
// heartbeats from a worker, pagehide beacon, restore after a reload) through the AgentClient adapter.
import { AgentClient } from '@amazon-connect/contact';
import { createBackstop, STATE } from '@ccp-backstop/client';
import { createAgentClientAdapter } from './agent-client-adapter.js';
import { createPopupSignIn } from './popup-sign-in.js';

const body = document.body;

function describe(state, detail) {
  switch (state) {
    case STATE.OPEN: return `Protected: closing the workspace sets you Offline${detail.otherSessions ? ` (${detail.otherSessions} other CCP open)` : ''}.`;
    case STATE.REGISTERING: return 'Connecting to the backstop…';
    case STATE.DEGRADED: return 'Not protected right now: the backstop cannot be reached (retrying).';
    case STATE.ERROR: return `Not protected: ${detail.message ?? detail.error ?? `the backstop answered ${detail.status}`}${detail.retrying ? ' (retrying)' : ''}.`;
    case STATE.CLOSED: return 'Session closed.';
    default: return state;
  }
}

/**
 * @param {object} options
 * @param {object} options.provider the started AmazonConnectService: passed to AgentClient, since
 *   @amazon-connect/app 1.0.11 pins core 1.0.11 and contact 1.0.12 pins core 1.0.12, so the bundle holds two copies
 *   of core and contact's own global provider is never set (core lib-esm/provider/global-provider.js)
 */
export async function protect({ provider, say, unprotected }) {
  const config = await fetch(new URL('../config.json', location.href), { cache: 'no-store' }).then((response) => {
    if (!response.ok) throw new Error(`config.json answered ${response.status}`);
    return response.json();
  });
  if (!config.auth) throw new Error('no identity provider is configured (config.json auth)');
  const adapter = await createAgentClientAdapter(new AgentClient(provider));
  body.dataset.agentArn = adapter.agentArn();
  // The status as this service knows it (what the close beacon reports): support and tests read it here.
  const showStatus = () => { body.dataset.status = adapter.currentStatus()?.name ?? ''; };
  showStatus();
  adapter.onStatusChange(showStatus);
  // Locally the demo IdP signs the hinted user in at once; a real IdP knows its own user from its session.
  const loginHint = config.mode === 'local' ? adapter.agentArn().split('/').pop() : undefined;
  const signIn = createPopupSignIn({ issuer: config.auth.issuer, clientId: config.workspaceClientId ?? config.auth.clientId,
    scope: config.auth.scope, loginHint, callbackUrl: new URL('signed-in.html', location.href).href });
  body.dataset.backstop = 'signing-in';
  say('Signing you in…');
  try {
    await signIn.signIn();
  } catch (error) {
    unprotected(`the sign-in failed (${error.message})`);
    return;
  }
  createBackstop({
    adapter,
    apiBase: config.apiBase,
    getToken: (options) => signIn.getToken(options),
    guardLiveContact: false, // the workspace's tab, not this iframe, is what the agent closes
    // esbuild emits nothing for the client's new URL(..., import.meta.url) workers: build.mjs bundles them here.
    workerUrls: { heartbeat: new URL('./heartbeat-worker.js', import.meta.url).href, tick: new URL('./tick-worker.js', import.meta.url).href },
    onChange: (state, detail) => {
      body.dataset.backstop = state;
      body.dataset.protected = state === STATE.OPEN ? 'yes' : 'no';
      say(describe(state, detail));
    },
    onRestore: ({ outcome, status }) => { body.dataset.restore = outcome; body.dataset.restoredStatus = status?.name ?? ''; },
  });
}
