// Loads the wasm ui (no inline script, so the CSP can forbid them). Load failures and uncaught
// errors are sent to the app's log, where an operator can find them.
import init from './vigil-ui.js';

function report(message) {
  try {
    window.__TAURI__.core.invoke('report_ui_error', { message: String(message) });
  } catch (_) {
    console.error(message);
  }
}
window.addEventListener('error', (e) => report(`${e.message} (${e.filename}:${e.lineno})`));
window.addEventListener('unhandledrejection', (e) => report(`unhandled rejection: ${e.reason}`));
init().catch((e) => {
  report(`the ui failed to load: ${e}`);
  document.body.textContent = `Vigil's ui failed to load: ${e}. See the log file.`;
});
