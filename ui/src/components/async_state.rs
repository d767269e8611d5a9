//! What a page fetched, in one of its states: still loading, loaded but empty (with what that
//! means), failed (the classified error and what to do), or ready. Every page shows them the
//! same way. A failed refresh keeps what was shown before under the error, so an operator
//! watching a dashboard still sees the last good data and knows it is stale.

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
    /// The state's element id (tests read `data-state`: loading, empty, error, ready).
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
                "error" => view! {
                    {error.get().map(|e| view! {
                        <div class="result bad async-error" role="alert" data-kind=e.kind.clone()>
                            <div class="async-message">{e.message}</div>
                            {e.hint.map(|h| view! { <div class="hint">"What to do: "{h}</div> })}
                            {(!empty.get_untracked()).then(|| view! { <div class="muted">"Showing what was fetched before."</div> })}
                        </div>
                    })}
                    {if empty.get() { None } else { Some(children()) }}
                }.into_any(),
                "loading" => view! { <p class="muted" role="status">"Loading…"</p> }.into_any(),
                "empty" => view! { <p class="muted" id=empty_id>{move || empty_text.get()}</p> }.into_any(),
                _ => children().into_any(),
            }}
        </div>
    }
}
