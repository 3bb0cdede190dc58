// Type declarations of @ccp-backstop/client. The JavaScript is the source of truth; `npm test` in web/ checks
// these against typed usage (test/types/usage.ts) with the TypeScript compiler.

/** The session's state as the page should show it. */
export declare const STATE: Readonly<{
  IDLE: 'idle';
  REGISTERING: 'registering';
  OPEN: 'open';
  CLOSED: 'closed';
  ERROR: 'error';
  DEGRADED: 'degraded';
}>;
export type BackstopState = (typeof STATE)[keyof typeof STATE];

/** A Connect agent status (agent state) as the backstop speaks of it. */
export interface AgentStatus {
  name: string;
  /** The agent state's ARN; null for contact-driven system states (AfterCallWork, Busy...). */
  arn: string | null;
  /** 'routable' | 'not_routable' | 'offline' | 'system' ... as Streams reports it. */
  type?: string;
}

/** What accompanies each state change, by state: `StateChange` narrows `detail` when you switch on `state`. */
export interface StateDetails {
  idle: Record<never, never>;
  registering: {
    /** Why: 'agent', 'server-closed', 'session-expired', 'session-lost', 'bfcache', or what you passed to register(). */
    reason: string;
  };
  open: {
    sessionId: string;
    /** The agent's other open CCP sessions (any browser or device), as the server counted them. */
    otherSessions: number;
    /**
     * Why it opened ('agent', 'server-closed', ..., 'adopted' from the tab's previous client, 'renewed': a new session
     * replaced the one nearing its end); absent on updates.
     */
    reason?: string;
    /**
     * 'failed': the session could not be renewed ahead of its end (`expiresAt`); it still protects the tab until
     * then and the client tries again on a later heartbeat (at most once a minute). Tell the agent to sign in again
     * when `error` is 'signed-out' or 'unauthenticated' (no fresh ID token: no refresh token, or the identity
     * provider refused or did not answer).
     */
    renewal?: 'failed';
    /** The session's end (ISO-8601), with `renewal`. */
    expiresAt?: string;
    /** With `renewal`: 'signed-out', 'unauthenticated', 'network', or the server's code ('refused' when it gave none). */
    error?: string;
    /** With `renewal`: the register's HTTP status, when it answered. */
    status?: number;
    /** A status the server offers to restore after a reload (on the register's change only). */
    restore?: { name: string; arn: string | null } | null;
    /** Heartbeats came back after failing. */
    recovered?: true;
    /** 'page-timers' when the heartbeat worker could not run and the page's own timers beat instead. */
    heartbeat?: 'page-timers';
    message?: string;
  };
  degraded: {
    sessionId: string;
    /** 'network' or 'heartbeat-refused' (a failing beat), 'heartbeat-failed' (no heartbeat can run). */
    error?: 'network' | 'heartbeat-refused' | 'heartbeat-failed';
    /** The failing beat's HTTP status (0: network). */
    status?: number;
    message?: string;
    otherSessions?: number;
    heartbeat?: 'page-timers';
    reason?: string;
  };
  error: {
    /** The HTTP status behind the error; absent for a network error. */
    status?: number;
    /** 'signed-out', 'unauthenticated', 'network' or the server's code. */
    error?: string;
    message?: string;
    /** The client retries by itself. */
    retrying?: true;
  };
  closed: {
    sessionId?: string;
    /** By the server (410/404/403 on a heartbeat): the page registers again by itself. */
    byServer?: true;
    status?: number;
    /** The close beacon was queued (pagehide, destroy). */
    beaconQueued?: boolean;
    persisted?: boolean;
    /** 'agent-changed': another agent signed in to this tab; 'destroyed': destroy(). */
    reason?: 'agent-changed' | 'destroyed';
  };
}

/** One state change: `[state, detail]`, detail typed by state. */
export type StateChange = { [S in BackstopState]: [state: S, detail: StateDetails[S]] }[BackstopState];
/** Any state's detail. */
export type StateDetail = StateDetails[BackstopState];

export type RestoreOutcome = 'restored' | 'not-offline' | 'unknown-status' | 'failed';

/**
 * The small surface the backstop needs of Streams; createStreamsAdapter builds it from the `connect` global.
 * Listener methods may return a function that removes the listener (destroy() calls it).
 */
export interface StreamsAdapter {
  onAgent(listener: () => void): void | (() => void);
  onStatusChange?(listener: () => void): void | (() => void);
  onAgentChoice?(listener: (status: AgentStatus) => void): void | (() => void);
  agentArn(): string;
  agentName?(): string;
  currentStatus(): AgentStatus | null;
  chosenStatus?(): AgentStatus | null;
  nextStatus?(): string | null;
  onContact?(): boolean;
  /** statuses and setStatus restore the agent's status after a reload: without both, no restore is tried. */
  statuses?(): AgentStatus[];
  setStatus?(status: AgentStatus): Promise<unknown>;
  setOfflineBestEffort?(): void;
  connect?(): Promise<void>;
}

/**
 * The parts of the amazon-connect-streams global (`connect`) the client uses. Streams' own declarations
 * (amazon-connect-streams' index.d.ts: `/// <reference types="amazon-connect-streams" />`) fit it as they are.
 */
export interface StreamsConnect {
  agent(callback: (agent: StreamsAgent) => void): unknown;
  core?: { getEventBus?(): unknown };
  AgentStateType?: { OFFLINE: string };
}

/** The parts of a Streams `connect.Agent` the client uses. */
export interface StreamsAgent {
  getAgentARN(): string;
  getName(): string;
  getState(): StreamsAgentState;
  getNextState(): { name: string } | null;
  getAvailabilityState(): { state: string };
  getContacts(): unknown[];
  getAgentStates(): StreamsAgentState[];
  setState(state: StreamsAgentState, callbacks?: { success?: (data?: any) => void; failure?: (error?: any) => void },
    options?: { enqueueNextState?: boolean }): void;
  onStateChange(callback: (change: any) => void): unknown;
  onRefresh(callback: (agent: any) => void): unknown;
}

/** A Streams agent state (`connect.AgentStateDefinition`). */
export interface StreamsAgentState {
  name: string;
  type: string;
  agentStateARN?: string | null;
}

/** createStreamsAdapter's adapter: its listeners can be removed and it can be ended. */
export interface StreamsConnectAdapter extends StreamsAdapter {
  onAgent(listener: () => void): () => void;
  onStatusChange(listener: () => void): () => void;
  onAgentChoice(listener: (status: AgentStatus) => void): () => void;
  statuses(): AgentStatus[];
  setStatus(status: AgentStatus): Promise<unknown>;
  setOfflineBestEffort(): void;
  /** Stops following Streams (the watch for a new initCCP, its subscriptions) and drops every listener. */
  destroy(): void;
}

export interface BackstopOptions {
  /** The amazon-connect-streams global (`connect`), after `connect.core.initCCP`. Or give `adapter`. */
  connect?: StreamsConnect;
  /** Instead of `connect`: your own adapter (tests, a simulated Streams). */
  adapter?: StreamsAdapter;
  /** The backstop HTTP API's base URL (the stack's `ApiUrl` output), '' for the page's own origin. */
  apiBase: string;
  /**
   * Required: the backstop API's register route has a JWT authorizer (createBackstop throws without it).
   * The signed-in agent's ID token from the contact centre's identity provider, or null when signed out
   * (then no session is opened). Sent only with the register, as the bearer token. When the API refuses it
   * (401), it is asked once more with `{ refresh: true }`: return a token issued anew if you can (a refresh
   * token grant), null if the agent must sign in again; a second 401 asks the agent to sign in again.
   */
  getToken: (options: { refresh?: boolean }) => Promise<string | null> | string | null;
  /** Each state change. An exception thrown here is reported (console.error) and changes nothing. */
  onChange?: (...change: StateChange) => void;
  /** The outcome of a restore after a reload. An exception thrown here is reported and changes nothing. */
  onRestore?: (result: { outcome: RestoreOutcome; status: AgentStatus | { name: string; arn: string | null } }) => void;
  /**
   * Where the page serves the worker files, for bundlers that do not emit them from
   * `new Worker(new URL('./heartbeat-worker.js', import.meta.url))` (esbuild, Rollup without a plugin, IIFE bundles).
   * Each file must be self-contained (bundled) or served beside heartbeat-request.js. Default: beside index.js.
   */
  workerUrls?: { heartbeat?: string | URL; tick?: string | URL };
  /** Ask the browser's leave-page confirmation while a contact is live (default true). */
  guardLiveContact?: boolean;
  /** The window to attach to (default: globalThis). */
  window?: Window;
}

export interface Backstop {
  readonly state: BackstopState;
  readonly sessionId: string | null;
  /** The agent's other open CCP sessions, as the server last counted them. */
  readonly otherSessions: number;
  /** Registers now (the client does this by itself when Streams reports the agent). */
  register(reason?: string): Promise<{ id: string; token: string; heartbeatSeconds: number; expiresAt?: string } | null>;
  /** Stops heartbeats and retries; the session stays open until the page closes. */
  stop(): void;
  /**
   * Ends the client: closes its session with the close beacon (as closing the tab does), stops heartbeats and
   * retries, and removes what it added to the page: workers, BroadcastChannel, pagehide/pageshow listeners, the
   * leave-page guard, its Streams subscriptions. Call it when your CCP component unmounts.
   */
  destroy(): void;
  onPageHide(event?: { persisted?: boolean }): boolean;
  onPageShow(event?: { persisted?: boolean }): void;
}

/** Adds the backstop to a custom CCP and starts it. */
export declare function createBackstop(options: BackstopOptions): Backstop;

export interface HeartbeatStarter {
  (options: {
    url: string;
    body: unknown;
    intervalMs: number;
    onResult: (status: number, otherSessions?: number, error?: string) => void;
    onFallback?: (why: string) => void;
  }): { update(body: unknown): void; stop(): void };
}

export interface TabPeers {
  hello(): void;
  bye(): void;
  othersOpen(): boolean;
  /** Says bye, stops the pings and closes the channel. */
  close(): void;
}

/** The core without page wiring: every effect injected (tests, custom hosts). */
export declare function createBackstopCore(deps: {
  adapter: StreamsAdapter;
  apiBase?: string;
  fetch: typeof fetch;
  sendBeacon: (url: string, body: string) => boolean;
  startHeartbeat: HeartbeatStarter;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  random?: () => number;
  /** Milliseconds since the epoch (default Date.now): when to renew the session ahead of its end. */
  now?: () => number;
  onChange?: BackstopOptions['onChange'];
  onRestore?: BackstopOptions['onRestore'];
  peers?: Pick<TabPeers, 'othersOpen'>;
  /** Optional here (the core also serves adapters and tests without an API authorizer); createBackstop requires it. */
  getToken?: BackstopOptions['getToken'];
  /** A callback (onChange, onRestore) threw: the client goes on unchanged. Default: console.error. */
  reportError?: (error: unknown) => void;
  /** A session another client of this tab handed over (handOver()): kept, not registered anew. */
  adopt?: HandedOverSession;
}): Backstop & { start(): void; handOver(): HandedOverSession | null };

/** An open session one client hands to the next in the same tab. */
export interface HandedOverSession {
  id: string;
  token: string;
  heartbeatSeconds: number;
  agentArn: string;
  status?: { name: string; arn: string };
  otherSessions?: number;
  /** The session's end, as the register answered it (ISO-8601). */
  expiresAt?: string;
  /** When the client renews the session (milliseconds since the epoch, the page's clock). */
  renewAt?: number;
}

export declare function createStreamsAdapter(connect: StreamsConnect, options?: {
  /** How often to look for a new initCCP's event bus after connect.core.terminate() (default 1000). */
  watchMs?: number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  clearInterval?: (id: any) => void;
}): StreamsConnectAdapter;
/** Heartbeats from a dedicated worker (or the page's timers when none can start): every intervalMs, a third of it after a failed beat. */
export declare function workerHeartbeat(worker: (() => Worker) | string | URL, options?: {
  fetch?: typeof fetch;
  setTimeout?: (fn: () => void, ms: number) => unknown;
  clearTimeout?: (id: any) => void;
  random?: () => number;
}): HeartbeatStarter;
export declare function workerInterval(createWorker: () => Worker, fallback?: (fn: () => void, ms: number) => unknown,
  cancel?: (id: any) => void): (fn: () => void, ms: number) => { stop(): void };
export declare function tabPeers(options: {
  /** A BroadcastChannel (or anything with its postMessage, onmessage and close). */
  channel: { postMessage(message: unknown): void; onmessage: ((event: MessageEvent) => any) | null; close?(): void };
  agentArn: () => string | null;
  now?: () => number;
  setInterval?: (fn: () => void, ms: number) => unknown;
  /** Stops what setInterval returned (unless it has its own stop(), as workerInterval's has). */
  clearInterval?: (id: any) => void;
  pingMs?: number;
  maxSilenceMs?: number;
  id?: string;
}): TabPeers;
export declare function guardLiveContacts(adapter: StreamsAdapter, win?: Window): { update(): void; readonly guarding: boolean; stop(): void };
/** Returns a function that removes the listeners again. */
export declare function attachToPage(backstop: Pick<Backstop, 'onPageHide' | 'onPageShow'>, win?: Window): () => void;
export declare const RESTORE_WAIT_MS: number;
export declare const RETRY_DELAYS_MS: readonly number[];
export declare function retryDelay(attempt: number, random?: () => number): number;
