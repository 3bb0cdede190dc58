// The browser tier in Firefox ESR, driven by puppeteer-core over WebDriver BiDi (no browser download: Debian's
// firefox-esr). FirefoxBrowserTest starts the local stack, makes the agents, runs this, and checks Connect itself.
// Usage: node web/e2e/firefox-scenarios.mjs <front URL> <agent for the close> <agent for the reload>
// Prints one JSON line per scenario ({"scenario", "ok", figures...}); exits 1 on the first failure.
//
// Tab close is triggered by leaving the page (navigating away), not by closing the tab: headless Firefox's
// automation close (browsingContext.close) skips unload handlers most of the time, even for a trivial page
// (pagehide ran 1 of 10 closes here), which would test the automation, not the backstop. Leaving the page fires
// pagehide exactly as closing the tab does for a real agent; Chromium's tier keeps the real tab-close tests.
import puppeteer from 'puppeteer-core';

const [front, closeAgent, reloadAgent] = process.argv.slice(2);
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const PROMPT_MS = Number(process.env.PROMPT_MS ?? 20000);

async function until(what, condition, timeoutMs = PROMPT_MS, everyMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

async function agent(userId) {
  const ops = await fetch(`${front}/_local/ops.json`, { cache: 'no-store' }).then((r) => r.json());
  return ops.agents.find((a) => a.userId === userId);
}

async function openCcp(page, userId) {
  await page.goto(`${front}/ccp.html?agent=${encodeURIComponent(userId)}`);
  await page.waitForSelector("body[data-backstop='open']", { timeout: PROMPT_MS });
}

async function choose(page, statusName) {
  await page.evaluate((name) => [...document.querySelectorAll('#status-buttons button')].find((b) => b.textContent === name).click(), statusName);
  await until(`${statusName} in Connect`, async () => (await agent(await page.evaluate(() => new URLSearchParams(location.search).get('agent')))).statusName === statusName);
}

const browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
const report = (line) => console.log(JSON.stringify(line));
let failed = false;
try {
  const version = await browser.version();

  // 1. Register, heartbeats from the worker, and the pagehide beacon setting the agent Offline.
  {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await openCcp(page, closeAgent);
    await choose(page, 'Available');
    const open = () => agent(closeAgent).then((a) => a.sessions.find((s) => s.state === 'OPEN'));
    const beat = await until('a heartbeat from the worker', async () => ((await open())?.heartbeats ?? 0) >= 1 && open());
    const left = Date.now();
    await page.goto('about:blank'); // leaving the page: pagehide, the beacon
    const offline = await until('Offline in Connect', async () => (await agent(closeAgent)).statusName === 'Offline' && Date.now());
    const closed = (await agent(closeAgent)).sessions.find((s) => s.sessionId === beat.sessionId);
    if (closed?.closeReason !== 'tab-closed') throw new Error(`session closed as ${closed?.closeReason}, not by the beacon`);
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    report({ scenario: 'close', ok: true, browser: version, heartbeats: beat.heartbeats, closeToOfflineMs: offline - left });
    await page.close();
  }

  // 2. Reload: the close beacon sets Offline, the new page registers and restores the status the agent had.
  {
    const page = await browser.newPage();
    await openCcp(page, reloadAgent);
    await choose(page, 'Available');
    const started = Date.now();
    await page.reload();
    await page.waitForSelector("body[data-restore='restored']", { timeout: PROMPT_MS });
    await until('Available again in Connect', async () => (await agent(reloadAgent)).statusName === 'Available');
    const sessions = (await agent(reloadAgent)).sessions;
    if (!sessions.some((s) => s.closeReason === 'tab-closed')) throw new Error('the reload sent no close beacon');
    report({ scenario: 'reload-restore', ok: true, restoredMs: Date.now() - started });
    await page.close();
  }
} catch (error) {
  failed = true;
  report({ scenario: 'failed', ok: false, error: String(error?.stack ?? error) });
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
