//! The sandbox's Kubernetes API (scripts/run): the tests' fake API server (src/kube.rs), since
//! no real one can run here. Prints `<url> <ca base64>` on one line once it listens, then
//! serves until stopped (SIGINT or SIGTERM). The emulator is started with them as every EKS
//! cluster's API.
//!
//! With `--worker <pj-worker> --aws <emulator URL> --logs <dir>`, the worker Deployment a deploy
//! applies runs as pj-worker processes (the fake's kubelet); they are stopped with it.

use tokio::signal::unix::{signal, SignalKind};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let kube = vigil_tests::kube::FakeKube::start().await;
    if let (Some(worker), Some(aws), Some(logs)) = (arg(&args, "--worker"), arg(&args, "--aws"), arg(&args, "--logs")) {
        let region = arg(&args, "--region").unwrap_or_else(|| "us-east-1".into());
        kube.run_pods(vigil_tests::kube::Kubelet { worker: worker.into(), aws_endpoint: aws, region, logs: logs.into() });
    }
    println!("{} {}", kube.url(), kube.ca);
    let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    // The pods drain and sign their last checkpoint while the emulator still runs.
    kube.stop_pods();
}
