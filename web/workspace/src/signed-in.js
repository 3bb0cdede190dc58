// The sign-in popup's last stop (the service's redirect URI): hands the code back to the service iframe.
import { handBackToOpener } from './popup-sign-in.js';

if (!handBackToOpener()) document.getElementById('state').textContent = 'This window has nothing to do: you may close it.';
