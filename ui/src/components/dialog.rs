//! A modal dialog: `role="dialog"` (or `alertdialog`) with `aria-modal` and its title as label;
//! focus moves into it when it opens (its first focusable control), Escape closes it (an alert
//! dialog too: Escape is "no"), a click outside closes it unless it is an alert, and when it
//! closes, focus goes back to what had it before.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

const FOCUSABLE: &str =
    "button:not([disabled]), [href], input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";

#[component]
pub fn Dialog(
    /// The title, shown as the dialog's heading and its accessible name.
    title: String,
    /// Called on Escape, a click outside (not for alerts), or a Close the content offers.
    on_close: Callback<()>,
    /// The dialog element's id (tests and styles find it by it).
    #[prop(optional)]
    id: &'static str,
    /// Wider, for records and job details.
    #[prop(optional)]
    wide: bool,
    /// An alert dialog (a confirmation): only its buttons or Escape close it.
    #[prop(optional)]
    alert: bool,
    /// A monospace title (ids, hashes).
    #[prop(optional)]
    mono_title: bool,
    children: Children,
) -> impl IntoView {
    let node = NodeRef::<leptos::html::Div>::new();
    let title_id = format!("{}-title", if id.is_empty() { "dialog" } else { id });
    // Whoever had focus gets it back when the dialog goes.
    let before = document().active_element().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    let before = send_wrapper::SendWrapper::new(before);
    on_cleanup(move || {
        if let Some(el) = before.take() {
            let _ = el.focus();
        }
    });
    Effect::new(move |_| {
        if let Some(el) = node.get() {
            let first = el.query_selector(FOCUSABLE).ok().flatten().and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
            let _ = match first {
                Some(f) => f.focus(),
                None => el.focus(),
            };
        }
    });
    let classes = if wide { "modal wide" } else { "modal" };
    let label_id = title_id.clone();
    view! {
        <div class="modal-backdrop" on:click=move |_| if !alert { on_close.run(()) }>
            <div class=classes id=id node_ref=node tabindex="-1" role=if alert { "alertdialog" } else { "dialog" } aria-modal="true"
                aria-labelledby=label_id
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev| if ev.key() == "Escape" { ev.stop_propagation(); on_close.run(()) }>
                <h2 id=title_id class:mono=mono_title>{title}</h2>
                {children()}
            </div>
        </div>
    }
}
