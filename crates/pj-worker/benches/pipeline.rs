//! End-to-end pipeline throughput against the AWS emulator and PostgreSQL: 2 KB notes uploaded
//! under input/, the worker binary (concurrency 2) processing them; measured from the ledger
//! (first job started → last job finished). Baseline in the same run: the bare AWS work per
//! document (receive, GetObject, PutObject, DeleteMessage) with the same concurrency and no
//! extraction, de-identification or database.
//! `cargo bench -p pj-worker --bench pipeline` (needs moto and PostgreSQL: scripts/test sets them up)

#[path = "../tests/common/mod.rs"]
mod common;

use aws_sdk_s3::primitives::ByteStream;
use common::{Platform, BUCKET};
use pj_worker::deid::corpus::{note, Rng};
use std::time::{Duration, Instant};

const N: usize = 300;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let p = Platform::new(5).await;
    let mut rng = Rng::new(11);
    let notes: Vec<String> = (0..N).map(|_| note(&mut rng, 2048).text).collect();

    // Baseline: a bare consumer over the same emulator.
    let q = p.sqs.create_queue().queue_name("baseline").send().await.unwrap().queue_url().unwrap().to_string();
    for (i, n) in notes.iter().enumerate() {
        let key = format!("baseline/{i}.txt");
        p.s3.put_object().bucket(BUCKET).key(&key).body(ByteStream::from(n.clone().into_bytes())).send().await.unwrap();
        p.sqs.send_message().queue_url(&q).message_body(&key).send().await.unwrap();
    }
    let t = Instant::now();
    let consumers: Vec<_> = (0..2)
        .map(|_| {
            let (s3, sqs, q) = (p.s3.clone(), p.sqs.clone(), q.clone());
            tokio::spawn(async move {
                loop {
                    let out = sqs.receive_message().queue_url(&q).max_number_of_messages(2).send().await.unwrap();
                    if out.messages().is_empty() {
                        break;
                    }
                    for m in out.messages() {
                        let key = m.body().unwrap();
                        let o = s3.get_object().bucket(BUCKET).key(key).send().await.unwrap();
                        let body = o.body.collect().await.unwrap().into_bytes();
                        s3.put_object().bucket(BUCKET).key(format!("baseline-out/{key}")).body(ByteStream::from(body)).send().await.unwrap();
                        sqs.delete_message().queue_url(&q).receipt_handle(m.receipt_handle().unwrap()).send().await.unwrap();
                    }
                }
            })
        })
        .collect();
    for c in consumers {
        c.await.unwrap();
    }
    let baseline = t.elapsed().as_secs_f64();

    for (i, n) in notes.iter().enumerate() {
        p.upload(&format!("note-{i:04}.txt"), n.clone().into_bytes()).await;
    }
    let w = p.start_worker("bench", &[("PJ_CONCURRENCY", "2"), ("RUST_LOG", "warn")]);
    p.wait_finished(N as i64, Duration::from_secs(1800), &w).await;
    let secs: f64 =
        sqlx::query_scalar("SELECT extract(epoch FROM max(finished_at) - min(started_at))::float8 FROM jobs").fetch_one(&p.db.pool).await.unwrap();
    let ok = p.scalar("SELECT count(*) FROM jobs WHERE status = 'succeeded'").await;
    println!("documents: {N} notes of ~2 KB; {ok} succeeded");
    println!("pipeline: {:.1} documents/s ({secs:.2} s)", N as f64 / secs);
    println!("baseline (bare S3 + SQS per document): {:.1} documents/s ({baseline:.2} s)", N as f64 / baseline);
    println!("ratio pipeline / baseline time: {:.2}", secs / baseline);
    drop(w);
    p.drop_database().await;
}
