//! Calls into the desktop shell (`#[tauri::command]`s) — the ui's only way out of the webview.

use serde::{de::DeserializeOwned, Serialize};
use vigil_dto::ErrorInfo;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = invoke, catch)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;

    /// Tauri's channel: the shell pushes messages to its `onmessage` while a command runs.
    #[wasm_bindgen(js_namespace = ["window", "__TAURI__", "core"], js_name = Channel)]
    type TauriChannel;
    #[wasm_bindgen(constructor, js_namespace = ["window", "__TAURI__", "core"], js_class = "Channel")]
    fn new() -> TauriChannel;
    #[wasm_bindgen(method, setter, js_name = onmessage)]
    fn set_onmessage(this: &TauriChannel, f: &js_sys::Function);
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

/// A channel to pass as a command's parameter: every message the command pushes on it goes to
/// `on_message` as it comes.
pub fn channel<M: DeserializeOwned + 'static>(on_message: impl Fn(M) + 'static) -> JsValue {
    let ch = TauriChannel::new();
    let handler = Closure::<dyn Fn(JsValue)>::new(move |v: JsValue| {
        if let Ok(m) = serde_wasm_bindgen::from_value::<M>(v) {
            on_message(m);
        }
    });
    ch.set_onmessage(handler.as_ref().unchecked_ref());
    // A message may still arrive after the answer: the handler lives on (a few bytes per call),
    // and callers ignore messages of work that has ended.
    handler.forget();
    ch.into()
}

/// As [`call`], with channels (made by [`channel`]) passed as the named parameters (camelCase,
/// as Tauri names parameters).
pub async fn call_with_channels<R: DeserializeOwned>(cmd: &str, args: impl Serialize, channels: Vec<(&str, JsValue)>) -> Result<R, ErrorInfo> {
    let args = args.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(|e| ui_error(format!("cannot encode the request: {e}")))?;
    for (name, ch) in channels {
        js_sys::Reflect::set(&args, &JsValue::from_str(name), &ch).map_err(|_| ui_error("cannot attach the channel".into()))?;
    }
    match tauri_invoke(cmd, args).await {
        Ok(v) => serde_wasm_bindgen::from_value(v).map_err(|e| ui_error(format!("unexpected answer from {cmd}: {e}"))),
        Err(e) => Err(serde_wasm_bindgen::from_value::<ErrorInfo>(e.clone())
            .unwrap_or_else(|_| ui_error(e.as_string().unwrap_or_else(|| format!("{cmd} failed: {e:?}"))))),
    }
}

/// As [`call`], with one channel passed as the parameter `channel`.
pub async fn call_with_channel<R: DeserializeOwned, M: DeserializeOwned + 'static>(
    cmd: &str,
    args: impl Serialize,
    channel_name: &str,
    on_message: impl Fn(M) + 'static,
) -> Result<R, ErrorInfo> {
    call_with_channels(cmd, args, vec![(channel_name, channel(on_message))]).await
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
