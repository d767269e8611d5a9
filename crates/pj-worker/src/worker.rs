//! The processing loop: receives messages while the database is up, runs up to `concurrency`
//! jobs at once, signs audit checkpoints, flushes metrics, and on shutdown lets in-flight work
//! finish within the grace period and releases the rest back to the queue (what the last long
//! poll is handed too).

use crate::aws::cloudwatch::CloudWatch;
use crate::aws::sqs::Sqs;
use crate::health::Health;
use crate::pipeline::{self, Context, Disposition};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{error, info, warn};

#[derive(Debug, Clone)]
pub struct LoopSettings {
    pub queue_url: String,
    pub concurrency: usize,
    pub visibility: Duration,
    pub receive_wait: Duration,
    pub max_attempts: i32,
    pub retry_base: Duration,
    pub shutdown_grace: Duration,
    pub checkpoint_interval: Duration,
    pub checkpoint_every: u64,
    pub metrics_interval: Duration,
    pub metrics_namespace: String,
}

pub struct Worker {
    pub ctx: Arc<Context>,
    pub sqs: Sqs,
    pub cloudwatch: CloudWatch,
    pub signing_key: pj_audit::Ed25519SigningKey,
    pub health: Arc<Health>,
    pub settings: LoopSettings,
}

/// Messages being worked on: message id → (receipt handle, number of objects it names).
type InFlight = Arc<Mutex<HashMap<String, (String, usize)>>>;

const MAX_DB_BACKOFF: Duration = Duration::from_secs(30);

impl Worker {
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let s = self.settings.clone();
        let permits = Arc::new(Semaphore::new(s.concurrency.max(1)));
        let in_flight: InFlight = Arc::default();
        let mut tasks: JoinSet<()> = JoinSet::new();
        let mut db_backoff = Duration::from_millis(250);
        let (mut last_cp, mut last_metrics) = (Instant::now(), Instant::now());
        let mut cp_count = 0u64;
        info!(queue = %s.queue_url, concurrency = s.concurrency, max_attempts = s.max_attempts, stream = %self.ctx.stream_id, "worker started");
        loop {
            self.health.beat();
            while let Some(r) = tasks.try_join_next() {
                if let Err(e) = r {
                    error!(error = %e, "a job task stopped unexpectedly; its message will be redelivered");
                }
            }
            if *shutdown.borrow() {
                break;
            }
            let appended = self.ctx.appended.load(Ordering::Relaxed);
            if last_cp.elapsed() >= s.checkpoint_interval || appended >= cp_count + s.checkpoint_every {
                self.checkpoint().await;
                (last_cp, cp_count) = (Instant::now(), appended);
            }
            if last_metrics.elapsed() >= s.metrics_interval {
                self.flush_metrics().await;
                last_metrics = Instant::now();
            }
            // No work is taken while the database is away: messages wait in the queue instead
            // of using up their attempts.
            if !self.database_ready().await {
                warn!(retry_in_ms = db_backoff.as_millis() as u64, "database unavailable; not taking work");
                tokio::select! {
                    _ = tokio::time::sleep(db_backoff) => {}
                    _ = shutdown.changed() => {}
                }
                db_backoff = (db_backoff * 2).min(MAX_DB_BACKOFF);
                continue;
            }
            db_backoff = Duration::from_millis(250);
            let available = permits.available_permits();
            if available == 0 {
                tokio::select! {
                    _ = tasks.join_next() => {}
                    _ = shutdown.changed() => {}
                }
                continue;
            }
            let receive = self.sqs.receive(&s.queue_url, available.min(10) as i32, s.receive_wait, s.visibility);
            tokio::pin!(receive);
            let received = tokio::select! {
                r = &mut receive => r,
                _ = shutdown.changed() => {
                    // A long poll given up is still answered by SQS, and what it hands over stays
                    // invisible for the visibility timeout: take the answer (within the wait) and
                    // put those messages straight back for the other replicas.
                    if let Ok(messages) = receive.await {
                        for m in messages {
                            if let Err(e) = self.sqs.delay(&s.queue_url, &m.receipt, Duration::ZERO).await {
                                warn!(error = %e, message = %m.id, "could not put a message back on shutdown; it returns after its visibility timeout");
                            }
                        }
                    }
                    continue;
                }
            };
            let messages = match received {
                Ok(m) => m,
                Err(e) => {
                    warn!(error = %e, "receiving from the queue failed");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = shutdown.changed() => {}
                    }
                    continue;
                }
            };
            for m in messages {
                let permit = permits.clone().acquire_owned().await.expect("the semaphore is never closed");
                let n = pipeline::parse_message(&m.body).map(|o| o.len()).unwrap_or(0);
                in_flight.lock().expect("in-flight lock").insert(m.id.clone(), (m.receipt.clone(), n));
                self.health.in_flight.fetch_add(1, Ordering::Relaxed);
                let (ctx, sqs, queue, health, in_flight) =
                    (self.ctx.clone(), self.sqs.clone(), s.queue_url.clone(), self.health.clone(), in_flight.clone());
                let (max_attempts, retry_base) = (s.max_attempts, s.retry_base);
                let visibility = s.visibility;
                tasks.spawn(async move {
                    // Long jobs (a big scan through OCR) keep their message invisible, so no
                    // other replica starts the same work.
                    let heartbeat = {
                        let (sqs, queue, receipt) = (sqs.clone(), queue.clone(), m.receipt.clone());
                        tokio::spawn(async move {
                            let every = (visibility / 2).max(Duration::from_secs(1));
                            loop {
                                tokio::time::sleep(every).await;
                                if let Err(e) = sqs.delay(&queue, &receipt, visibility).await {
                                    warn!(error = %e, "could not extend the message's visibility");
                                }
                            }
                        })
                    };
                    let d = pipeline::handle(&ctx, &m.id, &m.body, m.receive_count, max_attempts, retry_base).await;
                    heartbeat.abort();
                    let r = match d {
                        Disposition::Delete => sqs.delete(&queue, &m.receipt).await,
                        Disposition::Retry(delay) => sqs.delay(&queue, &m.receipt, delay).await,
                    };
                    if let Err(e) = r {
                        // Redelivery is safe: the job is idempotent.
                        warn!(message_id = %m.id, error = %e, "could not settle the message; it will be redelivered");
                    }
                    in_flight.lock().expect("in-flight lock").remove(&m.id);
                    health.in_flight.fetch_sub(1, Ordering::Relaxed);
                    drop(permit);
                });
            }
        }
        self.drain(tasks, in_flight).await;
    }

    async fn database_ready(&self) -> bool {
        let ok = self.ctx.db.ping().await;
        self.health.database_ok.store(ok, Ordering::Relaxed);
        if ok && !self.health.migrated.load(Ordering::Relaxed) {
            if let Err(e) = self.prepare().await {
                warn!(error = %e, "could not prepare the database");
                return false;
            }
            self.health.migrated.store(true, Ordering::Relaxed);
        }
        ok
    }

    /// Migrations, this worker's audit stream and its public key.
    async fn prepare(&self) -> Result<(), String> {
        self.ctx.db.migrate().await.map_err(|e| format!("migrations failed: {e}"))?;
        self.ctx.db.ensure_stream(&self.ctx.stream_id).await.map_err(|e| e.to_string())?;
        let public = self.signing_key.verifying_key();
        self.ctx.db.register_key(&pj_audit::key_id(&public), public.as_bytes()).await.map_err(|e| e.to_string())?;
        info!(key_id = %pj_audit::key_id(&public), "database ready");
        Ok(())
    }

    async fn checkpoint(&self) {
        if !self.health.migrated.load(Ordering::Relaxed) {
            return;
        }
        match self.ctx.db.checkpoint(&self.ctx.stream_id, &self.signing_key).await {
            Ok(Some(cp)) => info!(stream = %cp.stream_id, seq = cp.seq, key_id = %cp.key_id, "audit checkpoint signed"),
            Ok(None) => {}
            Err(e) => warn!(error = %e, "audit checkpoint failed; retried at the next interval"),
        }
    }

    async fn flush_metrics(&self) {
        let data = self.ctx.metrics.take();
        let n = data.len();
        if let Err(e) = self.cloudwatch.put(&self.settings.metrics_namespace, data).await {
            warn!(error = %e, data = n, "sending metrics failed; this period's metrics are lost");
        }
    }

    async fn drain(&self, mut tasks: JoinSet<()>, in_flight: InFlight) {
        self.health.shutting_down.store(true, Ordering::Relaxed);
        let n = tasks.len();
        info!(in_flight = n, grace_secs = self.settings.shutdown_grace.as_secs(), "shutting down: finishing in-flight work");
        let finished = tokio::time::timeout(self.settings.shutdown_grace, async { while tasks.join_next().await.is_some() {} }).await;
        if finished.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
            let left: Vec<(String, (String, usize))> = in_flight.lock().expect("in-flight lock").drain().collect();
            for (id, (receipt, objects)) in left {
                if let Err(e) = self.sqs.delay(&self.settings.queue_url, &receipt, Duration::ZERO).await {
                    warn!(message_id = %id, error = %e, "could not release the message; it returns after its visibility timeout");
                }
                for i in 0..objects.max(1) {
                    let _ = self.ctx.db.job_released(pipeline::job_id(&id, i)).await;
                }
                info!(message_id = %id, "released unfinished message back to the queue");
            }
        }
        self.checkpoint().await;
        self.flush_metrics().await;
        info!("worker stopped");
    }
}
