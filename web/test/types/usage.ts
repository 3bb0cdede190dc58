// A host CCP's integration, typed: `npm run types` compiles it against the package's declarations, as
// installed (node_modules/@ccp-backstop/client, resolved through its exports map), with Streams' own
// declarations for the `connect` global. A declaration that drifts from this use fails the test command.
/// <reference types="amazon-connect-streams" />
import {
  createBackstop, createStreamsAdapter, tabPeers, STATE,
  type BackstopState, type StateChange, type StateDetail, type Backstop, type StreamsAdapter,
} from '@ccp-backstop/client';
import { createSignIn } from '@ccp-backstop/client/sign-in';

const signIn = createSignIn({ issuer: 'https://idp.example.com/oauth2/default', clientId: 'ccp-page' });
const backstop: Backstop = createBackstop({
  connect, // Streams' own `typeof connect`
  apiBase: 'https://abc123.execute-api.eu-west-2.amazonaws.com',
  getToken: () => signIn.getToken(),
  onChange: (state, detail) => {
    if (state === STATE.DEGRADED) console.warn('not protected', detail.status, detail.sessionId.length);
    if (state === STATE.OPEN && detail.otherSessions > 0) console.info('another CCP is open');
  },
  onRestore: ({ outcome, status }) => console.info(outcome, status.name),
});
const others: number = backstop.otherSessions;
const id: string | null = backstop.sessionId;
void others;
void id;
backstop.destroy();

// A handler written for any state still fits.
createBackstop({ connect, apiBase: '', getToken: () => signIn.getToken(), onChange: (state: BackstopState, detail: StateDetail) => console.info(state, detail) });

/** Every state handled: a new state in the package breaks this switch. */
function describe(...[state, detail]: StateChange): string {
  switch (state) {
    case 'idle': return 'starting';
    case 'registering': return `registering (${detail.reason})`;
    case 'open': return `protected, ${detail.otherSessions} other CCPs, session ${detail.sessionId}`;
    case 'degraded': return `not protected: ${detail.error ?? detail.status}`;
    case 'error': return `${detail.error ?? detail.status}${detail.retrying ? ', retrying' : ''}`;
    case 'closed': return detail.byServer ? 'closed by the server' : `closed (${detail.reason ?? 'pagehide'})`;
    default: {
      const unhandled: never = state;
      return unhandled;
    }
  }
}
createBackstop({ connect, apiBase: '', getToken: () => signIn.getToken(), onChange: (...change) => console.info(describe(...change)) });

function forgetsOne(...[state]: StateChange): string {
  switch (state) {
    case 'idle': case 'registering': case 'open': case 'degraded': case 'error': return state;
    default: {
      // @ts-expect-error 'closed' is not handled
      const unhandled: never = state;
      return unhandled;
    }
  }
}
void forgetsOne;

createBackstop({
  connect, apiBase: '', getToken: () => signIn.getToken(),
  // @ts-expect-error a registering state has no session yet
  onChange: (state, detail) => { if (state === 'registering') console.info(detail.sessionId); },
});

// The adapter made from Streams' `connect`, and a real BroadcastChannel for the tab peers.
const adapter: StreamsAdapter = createStreamsAdapter(connect);
const off: () => void = createStreamsAdapter(connect).onAgent(() => {});
off();
const peers = tabPeers({ channel: new BroadcastChannel('ccp-backstop'), agentArn: () => adapter.agentArn() });
peers.close();

// @ts-expect-error apiBase is required
createBackstop({ connect, getToken: () => null });
// @ts-expect-error getToken is required: the API's register route has a JWT authorizer
createBackstop({ connect, apiBase: '' });
// @ts-expect-error states are a closed set
const wrong: BackstopState = 'protected';
void wrong;
// @ts-expect-error not the Streams global
createBackstop({ connect: { agent: 42 }, apiBase: '', getToken: () => null });
// @ts-expect-error not the Streams global
createStreamsAdapter(window);
