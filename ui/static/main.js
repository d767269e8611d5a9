// Loads the wasm ui (no inline script, so the CSP can forbid them).
import init from './vigil_ui.js';
init();
