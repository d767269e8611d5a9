//! Pieces every page uses, so each behaves the same everywhere: a dialog (focus in, Escape,
//! `aria-modal`, focus back), tabs (tab panels, arrow keys), a keyboard-reachable clickable row,
//! and the loading / empty / error state of what a page fetched.

mod async_state;
mod dialog;
mod row;
mod tabs;

pub use async_state::AsyncState;
pub use dialog::Dialog;
pub use row::activates;
pub use tabs::Tabs;
