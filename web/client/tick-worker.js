// Dedicated worker that ticks every `ms`: timers here keep their cadence in a hidden tab, where the page's own
// timers run once a minute (Chrome's intensive throttling), so the tab-peer pings stay honest.
let timer = null;
self.onmessage = (event) => {
  clearInterval(timer);
  if (event.data?.type === 'start') timer = setInterval(() => self.postMessage('tick'), event.data.ms);
};
