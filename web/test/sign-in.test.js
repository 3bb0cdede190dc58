// Unit tests of the sign-in's token keeping (the OIDC exchange itself is exercised in real Chromium against the
// local identity provider: SignInBrowserTest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSignIn } from '../js/sign-in.js';

function memoryStorage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return { getItem: (k) => data.get(k) ?? null, setItem: (k, v) => data.set(k, String(v)), data };
}

const NOW = Date.parse('2026-11-29T12:00:00Z');
const saved = (value) => memoryStorage({ 'ccp-backstop.sign-in': JSON.stringify(value) });
const signIn = (storage, loginHint) => createSignIn({ issuer: 'https://idp.example.com', clientId: 'ccp', loginHint, storage,
  location: { href: 'https://ccp.example.com/ccp.html' }, history: { replaceState() {} }, now: () => NOW });

test('getToken_should_offerTheIdToken_whileItIsValidForAnotherMinute', async () => {
  assert.equal(await signIn(saved({ idToken: 'ok', expiresAt: NOW + 61_000, loginHint: null })).getToken(), 'ok');
  assert.equal(await signIn(saved({ idToken: 'late', expiresAt: NOW + 59_000, loginHint: null })).getToken(), null);
});

test('getToken_should_notOfferAnotherAgentsToken_when_theLoginHintChanged', async () => {
  const storage = saved({ idToken: 'ada', expiresAt: NOW + 3_600_000, loginHint: 'demo-ada' });

  assert.equal(await signIn(storage, 'demo-alan').getToken(), null);
  assert.equal(await signIn(storage, 'demo-ada').getToken(), 'ada');
});

test('getToken_should_beNull_when_nothingIsStoredOrTheStoreIsCorrupt', async () => {
  assert.equal(await signIn(memoryStorage()).getToken(), null);
  assert.equal(await signIn(memoryStorage({ 'ccp-backstop.sign-in': '{not json' })).getToken(), null);
});

test('completeCallback_should_doNothing_when_thePageWasNotRedirectedBackBySignIn', async () => {
  const storage = memoryStorage();
  assert.equal(await signIn(storage).completeCallback(), false);
  assert.equal(storage.data.size, 0);
});
