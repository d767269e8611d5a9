//! Vigil's ui: a Leptos client-side app in the Tauri webview. Pages live in `pages/`; all data
//! comes from the shell through `ipc`.

mod app;
mod components;
mod ipc;
mod pages;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
