// The Agent Workspace service's entry. Order is the whole design: the SDK starts first and onCreate completes at
// once, before anything of the backstop runs (configuration, sign-in, the API), because "if any service fails to
// start within its configured timeout, an error will be displayed which will prevent agents from accessing the
// agent workspace" (Connect admin guide, third-party services). The backstop itself is a separate module loaded
// only after create completed: whatever it does (an identity provider that is down, an API that is down, a
// script that throws or never loads) cannot reach the workspace's start.
import { AmazonConnectService } from '@amazon-connect/app';

const body = document.body;
const say = (text) => { document.getElementById('state').textContent = text; };

function unprotected(why) {
  body.dataset.protected = 'no';
  body.dataset.backstop = 'unprotected';
  say(`Not protected: ${why}. Closing the workspace may leave you Available: set yourself Offline before you leave.`);
}

let provider;
const created = new Promise((resolve, reject) => {
  try {
    // A service gets only the create stage (@amazon-connect/app lib-esm/lifecycle/service-lifecycle-manager.js).
    // onCreate returns nothing: the SDK sends appLifecycleHandlerCompleted as soon as it returns.
    ({ provider } = AmazonConnectService.init({ onCreate: () => resolve(performance.now()) }));
  } catch (error) {
    reject(error);
  }
});
body.dataset.backstop = 'starting';
say('Waiting for the agent workspace…');

created
  .then(async () => {
    const { protect } = await import('./protection.js');
    await protect({ provider, say, unprotected });
  })
  .catch((error) => unprotected(error?.message ?? String(error)));
