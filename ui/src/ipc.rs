//! Calls into the desktop shell (`#[tauri::command]`s) — the ui's only way out of the webview.

use serde::{de::DeserializeOwned, Serialize};
use vigil_dto::ErrorInfo;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

fn ui_error(message: String) -> ErrorInfo {
    ErrorInfo { kind: "ui".into(), message, hint: None }
}

/// Invokes command `cmd` with `args` (an object whose keys are the command's parameters).
pub async fn call<R: DeserializeOwned>(cmd: &str, args: impl Serialize) -> Result<R, ErrorInfo> {
    let args = args.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| ui_error(format!("cannot encode the request: {e}")))?;
    match tauri_invoke(cmd, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| ui_error(format!("unexpected answer from {cmd}: {e}"))),
        Err(e) => Err(serde_wasm_bindgen::from_value::<ErrorInfo>(e.clone())
            .unwrap_or_else(|_| ui_error(e.as_string().unwrap_or_else(|| format!("{cmd} failed: {e:?}"))))),
    }
}

/// For commands without parameters.
pub async fn call0<R: DeserializeOwned>(cmd: &str) -> Result<R, ErrorInfo> {
    call(cmd, serde_json::json!({})).await
}

/// An error as one line: the message, then what to do.
pub fn describe(e: &ErrorInfo) -> String {
    match &e.hint {
        Some(h) => format!("{} — {h}", e.message),
        None => e.message.clone(),
    }
}
