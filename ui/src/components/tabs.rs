//! Tabs: a `tablist` of `tab` buttons, each controlling its `tabpanel`; the selected tab is the
//! one Tab reaches (the others have `tabindex=-1`), and Left/Right/Home/End move between tabs.

use leptos::prelude::*;

#[component]
pub fn Tabs(
    /// (id, label) of each tab; a tab's button id is `tab_prefix` + id.
    tabs: Signal<Vec<(String, String)>>,
    selected: RwSignal<String>,
    /// Prefix of the tab buttons' ids (`comp-`, `tab-`).
    tab_prefix: &'static str,
    /// The tab list's accessible name.
    label: &'static str,
    /// The selected tab's panel.
    children: ChildrenFn,
) -> impl IntoView {
    let focus_tab = move |id: &str| {
        if let Some(el) = document().get_element_by_id(&format!("{tab_prefix}{id}")) {
            if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(el) {
                let _ = el.focus();
            }
        }
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        let all = tabs.get_untracked();
        let Some(at) = all.iter().position(|(id, _)| *id == selected.get_untracked()) else { return };
        let next = match ev.key().as_str() {
            "ArrowRight" => (at + 1) % all.len(),
            "ArrowLeft" => (at + all.len() - 1) % all.len(),
            "Home" => 0,
            "End" => all.len() - 1,
            _ => return,
        };
        ev.prevent_default();
        let id = all[next].0.clone();
        selected.set(id.clone());
        focus_tab(&id);
    };
    view! {
        <div class="tabs" role="tablist" aria-label=label on:keydown=keydown>
            {move || tabs.get().into_iter().map(|(id, title)| {
                let (a, b, c) = (id.clone(), id.clone(), id.clone());
                view! {
                    <button class="tab" role="tab" id=format!("{tab_prefix}{id}") aria-controls=format!("panel-{tab_prefix}{id}")
                        aria-selected=move || (selected.get() == a).to_string()
                        tabindex=move || if selected.get() == b { "0" } else { "-1" }
                        on:click=move |_| selected.set(c.clone())>{title}</button>
                }
            }).collect_view()}
        </div>
        <div role="tabpanel" id=move || format!("panel-{tab_prefix}{}", selected.get()) aria-labelledby=move || format!("{tab_prefix}{}", selected.get())>
            {children()}
        </div>
    }
}
