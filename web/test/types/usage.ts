// A host CCP's integration, typed: `npm run types` compiles it against the package's declarations, as
// installed (node_modules/@ccp-backstop/client, resolved through its exports map). A declaration that drifts
// from this use fails the test command.
import { createBackstop, STATE, type BackstopState, type StateDetail, type Backstop } from '@ccp-backstop/client';
import { createSignIn } from '@ccp-backstop/client/sign-in';

declare const connect: unknown; // the amazon-connect-streams global

const signIn = createSignIn({ issuer: 'https://idp.example.com/oauth2/default', clientId: 'ccp-page' });
const backstop: Backstop = createBackstop({
  connect,
  apiBase: 'https://abc123.execute-api.eu-west-2.amazonaws.com',
  getToken: () => signIn.getToken(),
  onChange: (state: BackstopState, detail: StateDetail) => {
    if (state === STATE.DEGRADED) console.warn('not protected', detail.status);
    if (state === STATE.OPEN && (detail.otherSessions ?? 0) > 0) console.info('another CCP is open');
  },
  onRestore: ({ outcome, status }) => console.info(outcome, status.name),
});
const others: number = backstop.otherSessions;
const id: string | null = backstop.sessionId;
void others;
void id;

// @ts-expect-error apiBase is required
createBackstop({ connect });
// @ts-expect-error states are a closed set
const wrong: BackstopState = 'protected';
void wrong;
