// Rebuild when the bundle gains a migration: sqlx::migrate! embeds the directory.
fn main() {
    println!("cargo:rerun-if-changed=../../deploy-bundles/migrations");
}
