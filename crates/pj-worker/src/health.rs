//! `/healthz` (the process is alive and its loop turns) and `/readyz` (it can take work: the
//! database answers, migrations are applied, it is not shutting down).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub struct Health {
    pub migrated: AtomicBool,
    pub database_ok: AtomicBool,
    pub shutting_down: AtomicBool,
    pub in_flight: AtomicU64,
    /// Unix seconds of the loop's last turn.
    pub heartbeat: AtomicU64,
}

pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

impl Health {
    pub fn beat(&self) {
        self.heartbeat.store(now_secs(), Ordering::Relaxed);
    }

    fn ready(&self) -> (bool, &'static str) {
        if self.shutting_down.load(Ordering::Relaxed) {
            (false, "shutting down")
        } else if !self.database_ok.load(Ordering::Relaxed) {
            (false, "database unavailable")
        } else if !self.migrated.load(Ordering::Relaxed) {
            (false, "migrations not applied yet")
        } else {
            (true, "ready")
        }
    }
}

/// The loop turns at least every receive wait (20 s) or backoff (30 s); 120 s without a turn is stuck.
const STUCK_AFTER_SECS: u64 = 120;

pub fn router(health: Arc<Health>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).with_state(health)
}

async fn healthz(State(h): State<Arc<Health>>) -> (StatusCode, Json<serde_json::Value>) {
    let age = now_secs().saturating_sub(h.heartbeat.load(Ordering::Relaxed));
    let alive = age < STUCK_AFTER_SECS;
    let code = if alive { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(serde_json::json!({"alive": alive, "last_loop_turn_secs_ago": age, "in_flight": h.in_flight.load(Ordering::Relaxed)})))
}

async fn readyz(State(h): State<Arc<Health>>) -> (StatusCode, Json<serde_json::Value>) {
    let (ready, why) = h.ready();
    let code = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(serde_json::json!({"ready": ready, "reason": why})))
}
