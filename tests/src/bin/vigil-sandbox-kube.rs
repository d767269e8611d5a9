//! The sandbox's Kubernetes API (scripts/run): the tests' fake API server (src/kube.rs), since
//! no real one can run here. Prints `<url> <ca base64>` on one line once it listens, then
//! serves until stopped. The emulator is started with them as every EKS cluster's API.

#[tokio::main]
async fn main() {
    let kube = vigil_tests::kube::FakeKube::start().await;
    println!("{} {}", kube.url(), kube.ca);
    let _ = tokio::signal::ctrl_c().await;
}
