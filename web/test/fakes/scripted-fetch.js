// The page's fetch for the client's tests, answering from a script: each entry {status, body} (or {status, json}),
// an Error to throw (the network failed), or a function returning such an entry (a slow answer). It records every
// request in `fetch.calls` ({url, init, body: the JSON body parsed}) and throws once the script runs out.
export function scriptedFetch(responses) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init, body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined });
    const next = responses.shift();
    if (next === undefined) throw new Error('fake fetch: no more responses scripted');
    if (next instanceof Error) throw next;
    const settled = typeof next === 'function' ? await next() : next;
    return { status: settled.status, json: settled.json ?? (async () => settled.body ?? {}) };
  };
  fetch.calls = calls;
  return fetch;
}
