//! One module per sidebar page.
pub mod environments;
pub mod settings;
