//! `pj-bundle`: the publisher's tool for the platform bundle — make a signing key, sign a
//! bundle directory, verify one as a console would. The signing key is read from the
//! environment (`PJ_BUNDLE_SIGNING_KEY`, 64 hex digits) and never written anywhere.

use clap::{Parser, Subcommand};
use pj_bundle::{build, sign, signing_key, verify, Signer};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pj-bundle", version, about = "Sign and verify the Patient Journey platform bundle")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print a new signing key (keep it secret) and its public key (give it to consoles).
    Keygen,
    /// Write bundle.json (every file with its SHA-256) and bundle.sig into DIR.
    Sign {
        dir: PathBuf,
        #[arg(long, default_value = "patient-journey")]
        name: String,
        #[arg(long)]
        version: String,
        /// The oldest console version that can deploy this bundle.
        #[arg(long)]
        min_console: String,
        /// A file with the IAM actions a deploy needs, one per line (# comments allowed).
        #[arg(long)]
        iam_actions: PathBuf,
        /// Who signs, as consoles will show it.
        #[arg(long)]
        signer: String,
        #[arg(long, env = "PJ_BUNDLE_SIGNING_KEY", hide_env_values = true)]
        key: String,
    },
    /// Check DIR as a console of version CONSOLE would, trusting only the given public keys.
    Verify {
        dir: PathBuf,
        /// A trusted public key (hex); repeat for several.
        #[arg(long = "trust", required = true)]
        trusted: Vec<String>,
        #[arg(long, default_value = env!("CARGO_PKG_VERSION"))]
        console: String,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pj-bundle: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Keygen => {
            let mut secret = [0u8; 32];
            getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
            let key = ed25519_dalek::SigningKey::from_bytes(&secret);
            println!("signing key (secret): {}", hex::encode(secret));
            println!("public key:           {}", hex::encode(key.verifying_key().as_bytes()));
        }
        Command::Sign { dir, name, version, min_console, iam_actions, signer, key } => {
            let key = signing_key(&key)?;
            let actions: Vec<String> = std::fs::read_to_string(&iam_actions)
                .map_err(|e| format!("{}: {e}", iam_actions.display()))?
                .lines()
                .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
                .filter(|l| !l.is_empty())
                .collect();
            let signer = Signer { name: signer, public_key: hex::encode(key.verifying_key().as_bytes()) };
            let manifest = build(&dir, &name, &version, &min_console, actions, signer)?;
            sign(&dir, &manifest, &key)?;
            println!("signed {} {} ({} files)", manifest.name, manifest.version, manifest.files.len());
        }
        Command::Verify { dir, trusted, console } => {
            let trusted: Vec<Signer> = trusted.into_iter().map(|k| Signer { name: String::new(), public_key: k }).collect();
            let v = verify(&dir, &trusted, &console)?;
            println!(
                "{} {} signed by {} ({} files, manifest SHA-256 {})",
                v.manifest.name,
                v.manifest.version,
                v.manifest.signer.name,
                v.manifest.files.len(),
                v.manifest_sha256
            );
        }
    }
    Ok(())
}
