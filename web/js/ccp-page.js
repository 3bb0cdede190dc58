// Boots the CCP page: reads its configuration, picks Streams (production) or the simulated Streams (local),
// adds the backstop from the client package (@ccp-backstop/client, as any custom CCP would: ccp.html's import map
// resolves it), and renders the agent's status and the backstop's session state.
import { createBackstop, createStreamsAdapter, STATE } from '@ccp-backstop/client';
import { createSignIn } from '@ccp-backstop/client/sign-in';
import { createSimulatedStreams } from './simulated-streams.js';
import { createCcpView } from './ccp-view.js';

const $ = (selector) => document.querySelector(selector);
const view = createCcpView(document);
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

/**
 * Signs the agent in with the contact centre's identity provider before anything else (production: before the
 * CCP and its softphone load, so the redirect drops nothing). Resolves to the token source, or to null when the
 * page is on its way to the identity provider.
 */
async function signInFirst(auth, returned, loginHint) {
  const signIn = createSignIn({ issuer: auth.issuer, clientId: auth.clientId, scope: auth.scope, loginHint });
  if (await signIn.getToken()) return signIn;
  if (returned) throw new Error('the identity provider signed you in but gave no usable ID token');
  view.signingIn();
  await signIn.signIn();
  return null;
}

async function main() {
  const config = await fetch('config.json', { cache: 'no-store' }).then((r) => r.json());
  // The API's register route has a JWT authorizer: without a sign-in no session could ever open.
  if (!config.auth) throw new Error('config.json names no identity provider (auth): the backstop API opens a session only for a signed-in agent');
  // The sign-in's order: completeCallback() first (back from the provider?), then getToken(), signIn() when null.
  let returned = false;
  try {
    // Back from the identity provider? Finish that first: it also puts the page's own address (?agent=) back.
    returned = await createSignIn({ issuer: config.auth.issuer, clientId: config.auth.clientId }).completeCallback();
  } catch (error) {
    view.signInFailed(error);
    return;
  }
  const userId = config.mode === 'local' ? new URLSearchParams(location.search).get('agent') : null;
  if (config.mode === 'local' && !userId) {
    view.showAgentPicker(config);
    return;
  }
  let signIn;
  try {
    // Locally the demo agent is the login hint: the local IdP signs them in at once.
    signIn = await signInFirst(config.auth, returned, userId ?? undefined);
  } catch (error) {
    view.signInFailed(error);
    return;
  }
  if (!signIn) return; // on the way to the identity provider
  view.useSignIn(signIn);
  document.body.dataset.signIn = 'done';
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
  view.setBackstopState(STATE.IDLE);
  // The integration README shows: one call, the rest is the client's.
  createBackstop({
    adapter,
    apiBase: config.apiBase,
    getToken: (options) => signIn.getToken(options),
    onChange: view.setBackstopState,
    onRestore: view.showRestore,
  });
  adapter.onAgent(() => view.renderStatus(adapter));
  adapter.onStatusChange?.(() => view.renderStatus(adapter));
  if (adapter.connect) await adapter.connect();
}

main().catch((error) => {
  document.body.dataset.backstop = STATE.ERROR;
  $('#backstop-state').textContent = `The page could not start: ${error.message}`;
});
