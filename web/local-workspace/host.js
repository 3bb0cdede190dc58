// A local stand-in for Amazon Connect's Agent Workspace, as far as a third-party service sees it. The workspace's
// own (host) side is not published; this page is written only from the app side's published message types
// (web/node_modules, pinned in web/package.json):
//   @amazon-connect/workspace-types 1.0.11  lib-esm/app-host-init-message.d.ts  (connect-app-host-init)
//                                           lib-esm/app-message.d.ts            (appLifecycle, appLifecycleHandlerCompleted,
//                                                                                serviceError, closeApp, appPublish)
//                                           lib-esm/config/service-config.d.ts  (ServiceConfig: initializationTimeout)
//   @amazon-connect/core 1.0.12             lib-esm/messaging/messages.d.ts     (acknowledge, request/response,
//                                                                                subscribe/publish, healthCheck)
//                                           lib-esm/request/request-handlers.d.ts (ConnectResponse)
//                                           lib-esm/proxy/proxy-subject-status.d.ts
//   @amazon-connect/contact 1.0.12          lib-esm/routes.js, topic-keys.js, namespace.js, types.d.ts (AgentState)
// and from how the app proxy uses them (@amazon-connect/app lib-esm/proxy/app-proxy.js: the init message goes to
// window.parent with target origin "*" and a MessagePort). Agent requests are answered from the Connect emulator's
// admin surface, as the agent's own session would change their status (not Connect's public API and its quota).
// What it cannot prove: the real workspace's origin and permission checks, its sandbox and allow lists, its
// timings, its message ordering; README "Using the Agent Workspace" says what a smoke test must check.

const NAMESPACE = 'aws.connect.contact';
const TOPIC_AVAILABILITY = 'agent/availabilityStateChanged';
const TOPIC_STATE = 'agent/stateChange'; // the deprecated topic, still published for older services
// The service iframe's sandbox as template.yaml configures it (AgentWorkspaceApplication, IframeConfig): the
// workspace's default (allow-forms allow-popups allow-same-origin allow-scripts) plus allow-popups-to-escape-sandbox.
const SANDBOX = 'allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox';

const $ = (selector) => document.querySelector(selector);
const params = new URLSearchParams(location.search);

async function main() {
  const config = await fetch('host-config.json', { cache: 'no-store' }).then((r) => r.json());
  const userId = params.get('agent');
  if (!userId) {
    $('#start').textContent = 'Name the agent: ?agent=<userId>';
    return;
  }
  const timeoutMs = Number(params.get('timeout') ?? config.initializationTimeoutMs);
  const healthCheckInterval = Number(params.get('healthCheck') ?? config.healthCheckIntervalMs);
  const base = `${config.emulatorBase}/_emulator/instances/${encodeURIComponent(config.instanceId)}`;
  const agentUrl = `${base}/agents/${encodeURIComponent(userId)}`;
  const instance = await fetch(base).then((r) => r.json());
  const stateArn = (id) => `${config.instanceArn}/agent-state/${id}`;
  const TYPES = { ROUTABLE: 'routable', OFFLINE: 'offline', CUSTOM: 'not_routable' };
  const states = instance.statuses.map((s) => ({ agentStateARN: stateArn(s.id), type: TYPES[s.type] ?? s.type.toLowerCase(), name: s.name, id: s.id }));
  const toState = (view) => ({ agentStateARN: stateArn(view.statusId), type: TYPES[view.statusType] ?? view.statusType.toLowerCase(),
    name: view.statusName, startTimestamp: view.statusStart ? new Date(view.statusStart) : undefined });
  let view = await fetch(agentUrl).then((r) => r.json());
  const publicState = (s) => ({ agentStateARN: s.agentStateARN, type: s.type, name: s.name });

  // Set before the subscriptions and the port exist; observe() publishes to them.
  let observe = (next) => { view = next; render(); };

  async function setStatus(stateId) {
    observe(await fetch(`${agentUrl}/status`, { method: 'PUT', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ statusId: stateId }) }).then((r) => r.json()));
    return toState(view);
  }

  // The workspace's own status control, as the agent uses it.
  for (const state of states) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = state.name;
    button.addEventListener('click', () => setStatus(state.id));
    $('#statuses').append(button);
  }
  function render() {
    $('#agent').textContent = `${view.firstName} ${view.lastName}`;
    $('#status').textContent = view.statusName;
    document.body.dataset.status = view.statusName;
  }
  render();

  // The service, cross-origin (the backstop's own host), with the workspace's default sandbox.
  const frame = document.createElement('iframe');
  frame.title = 'ccp-backstop service';
  frame.setAttribute('sandbox', SANDBOX);
  frame.src = config.serviceUrl;
  const serviceOrigin = new URL(config.serviceUrl).origin;
  const appInstanceId = crypto.randomUUID();
  const serviceConfig = { arn: config.applicationArn, namespace: config.namespace, id: appInstanceId, name: 'ccp-backstop',
    description: 'ccp-backstop service', accessUrl: config.serviceUrl, initializationTimeout: timeoutMs,
    applyToAgentWorkspace: true, iframeConfig: { allow: [], sandbox: SANDBOX.split(' ') } };

  const begun = performance.now();
  let outcome = null;
  const finish = (result, text) => {
    if (outcome) return;
    outcome = result;
    clearTimeout(startTimer);
    document.body.dataset.workspace = result;
    document.body.dataset.startMs = String(Math.round(performance.now() - begun));
    $('#start').textContent = text;
  };
  // "If any service fails to start within its configured timeout, an error will be displayed which will prevent
  // agents from accessing the agent workspace."
  const startTimer = setTimeout(() => finish('failed', `The agent workspace could not start: the service did not start within ${timeoutMs} ms.`), timeoutMs);
  document.body.dataset.workspace = 'starting';

  let port = null;
  let healthChecks = 0;
  const subscribed = new Map(); // "namespace|key" -> handler ids
  const counts = { requests: 0, logs: 0, metrics: 0 };
  const send = (message) => port?.postMessage(message);
  const ok = (request, data) => send({ type: 'response', namespace: request.namespace, requestId: request.requestId, isError: false, data });
  const fail = (request, errorKey, reason) => send({ type: 'response', namespace: request.namespace, requestId: request.requestId,
    isError: true, errorKey, reason, details: { command: request.command, requestData: request.data } });

  async function answer(request) {
    counts.requests += 1;
    document.body.dataset.requests = `${document.body.dataset.requests ?? ''} ${request.command}`.trim();
    if (request.namespace !== NAMESPACE) return fail(request, 'handlerNotFound', `no handler for ${request.namespace}`);
    try {
      switch (request.command) {
        case 'agent/getARN': return ok(request, { ARN: view.agentArn });
        case 'agent/getName': return ok(request, { name: `${view.firstName} ${view.lastName}` });
        case 'agent/getAvailabilityState': return ok(request, toState(view));
        case 'agent/getState': return ok(request, toState(view));
        case 'agent/listAvailabilityStates': return ok(request, states.map(publicState));
        case 'agent/setOffline':
          return ok(request, { status: 'updated', current: await setStatus(states.find((s) => s.type === 'offline').id) });
        case 'agent/setAvailabilityState': {
          const target = states.find((s) => s.agentStateARN === request.data?.agentStateARN);
          if (!target) return fail(request, 'invalidAgentState', 'unknown agent state');
          return ok(request, { status: 'updated', current: await setStatus(target.id) });
        }
        default: return fail(request, 'handlerNotFound', `no handler for ${request.command}`);
      }
    } catch (error) {
      return fail(request, 'requestFailed', String(error?.message ?? error));
    }
  }

  function onUpstream(event) {
    const message = event.data ?? {};
    switch (message.type) {
      case 'appLifecycleHandlerCompleted':
        if (message.stage === 'create' && message.appInstanceId === appInstanceId) {
          finish('started', `The agent workspace started (the service took ${Math.round(performance.now() - begun)} ms).`);
        }
        break;
      case 'request': answer(message); break;
      case 'subscribe': {
        const key = `${message.topic.namespace}|${message.topic.key}`;
        subscribed.set(key, (subscribed.get(key) ?? new Set()).add(message.handlerId));
        break;
      }
      case 'unsubscribe': subscribed.delete(`${message.topic.namespace}|${message.topic.key}`); break;
      case 'healthCheck':
        healthChecks += 1;
        document.body.dataset.healthChecks = String(healthChecks);
        send({ type: 'healthCheckResponse', time: Date.now(), counter: healthChecks });
        break;
      case 'serviceError': document.body.dataset.serviceError = message.message ?? 'error'; break;
      case 'log': counts.logs += 1; break;
      case 'metric': counts.metrics += 1; break;
      default: break; // closeApp, appPublish, closeChannel: nothing a service's start depends on
    }
  }

  window.addEventListener('message', (event) => {
    // Only the service's own frame, from the service's origin (the workspace checks the application's approved
    // origins; here the one origin it was given).
    if (event.source !== frame.contentWindow || event.origin !== serviceOrigin) return;
    if (event.data?.type !== 'connect-app-host-init' || !event.ports?.[0]) return;
    port = event.ports[0];
    port.onmessage = onUpstream;
    document.body.dataset.sdkVersion = event.data.sdkVersion;
    send({ type: 'acknowledge', connectionId: crypto.randomUUID(), status: { initialized: true, startTime: new Date() }, healthCheckInterval });
    send({ type: 'appLifecycle', stage: 'create', instanceId: appInstanceId, appInstanceId, config: serviceConfig,
      appConfig: serviceConfig, region: config.region });
  });
  $('#services').append(frame);

  // A status change is published at once when the workspace makes it (its own buttons, a service's request), and
  // within pollMs when someone else does (another CCP, a supervisor, the backstop): followed from the emulator.
  observe = (next) => {
    const before = view;
    view = next;
    render();
    if (next.statusId === before.statusId) return;
    const previous = toState(before);
    const current = toState(view);
    if (subscribed.has(`${NAMESPACE}|${TOPIC_AVAILABILITY}`)) {
      send({ type: 'publish', topic: { namespace: NAMESPACE, key: TOPIC_AVAILABILITY }, data: { state: current, previous: { state: previous } } });
    }
    if (subscribed.has(`${NAMESPACE}|${TOPIC_STATE}`)) {
      send({ type: 'publish', topic: { namespace: NAMESPACE, key: TOPIC_STATE }, data: { state: current.name, previous: { state: previous.name } } });
    }
  };
  setInterval(() => fetch(agentUrl).then((r) => r.json()).then(observe, () => {}), Number(params.get('pollMs') ?? 500));
}

main().catch((error) => {
  document.body.dataset.workspace = 'broken';
  $('#start').textContent = `The local workspace could not start: ${error.message}`;
});
