//! What a page fetched, in one of three states besides its content: still loading, loaded but
//! empty (with what that means), or failed (the error and what to do). Every page shows them
//! the same way.

use leptos::prelude::*;
use vigil_dto::ErrorInfo;

#[component]
pub fn AsyncState(
    loading: Signal<bool>,
    error: Signal<Option<ErrorInfo>>,
    /// Whether there is nothing to show.
    empty: Signal<bool>,
    /// What an empty result means (and what to do), e.g. "No alarm is in ALARM."
    #[prop(into)]
    empty_text: Signal<String>,
    /// The state's element id (tests read `data-state`).
    #[prop(optional)]
    id: &'static str,
    /// The id of the empty-state text.
    #[prop(optional)]
    empty_id: &'static str,
    children: ChildrenFn,
) -> impl IntoView {
    let state = move || {
        if error.with(Option::is_some) {
            "error"
        } else if loading.get() && empty.get() {
            "loading"
        } else if empty.get() {
            "empty"
        } else {
            "ready"
        }
    };
    view! {
        <div class="async" id=id data-state=state aria-busy=move || loading.get().to_string()>
            {move || match state() {
                "error" => match error.get() {
                    Some(e) => view! {
                        <div class="result bad" role="alert">
                            <div>{e.message}</div>
                            {e.hint.map(|h| view! { <div class="hint">"What to do: "{h}</div> })}
                        </div>
                    }.into_any(),
                    None => ().into_any(),
                },
                "loading" => view! { <p class="muted" role="status">"Loading…"</p> }.into_any(),
                "empty" => view! { <p class="muted" id=empty_id>{move || empty_text.get()}</p> }.into_any(),
                _ => children().into_any(),
            }}
        </div>
    }
}
