//! Clickable table rows reachable by keyboard: `tabindex=0`, and Enter or Space does what a
//! click does.

/// A keydown handler that runs `action` on Enter or Space.
pub fn activates(action: impl Fn() + 'static) -> impl Fn(leptos::ev::KeyboardEvent) + 'static {
    move |ev| {
        if ev.key() == "Enter" || ev.key() == " " {
            ev.prevent_default();
            action();
        }
    }
}
