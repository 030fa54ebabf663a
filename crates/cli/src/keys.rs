//! Key files. A private key never leaves the person's device: the file is written with mode
//! 0600 and only its public half (`FILE.pub`) is meant to be shared.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use corridor_core::crypto::{Keypair, PublicKey, b64, unb64};
use serde::{Deserialize, Serialize};

/// The on-disk form of a private key.
#[derive(Debug, Serialize, Deserialize)]
pub struct KeyFile {
    /// Always `corridor-ed25519-key`.
    pub kind: String,
    /// The public key (standard base64), to check the file and to show.
    pub public: String,
    /// The 32-byte seed, standard base64.
    pub seed: String,
    /// The actor this key signs for, if known (saves typing `--actor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// A loaded private key.
pub struct LoadedKey {
    /// The keypair.
    pub keypair: Keypair,
    /// The actor named in the file.
    pub actor: Option<String>,
}

/// Fresh randomness from the operating system.
pub fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the operating system provides randomness");
    seed
}

/// Write a new key file (0600) and its `.pub` beside it. Refuses to overwrite.
pub fn write_new(path: &Path, keypair: &Keypair, actor: Option<&str>) -> anyhow::Result<PathBuf> {
    if path.exists() {
        bail!(
            "{} already exists; refusing to overwrite a key (choose another --out, or delete it yourself)",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = KeyFile {
        kind: "corridor-ed25519-key".into(),
        public: keypair.public().id(),
        seed: b64(&keypair.seed()),
        actor: actor.map(str::to_string),
    };
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(serde_json::to_string_pretty(&file)?.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    fs::write(&pub_path, format!("{}\n", keypair.public().id()))
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    Ok(pub_path)
}

/// Read a private key file.
pub fn load(path: &Path) -> anyhow::Result<LoadedKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    let file: KeyFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a corridor key file (make one with `corridor keygen --out FILE`)",
            path.display()
        )
    })?;
    let seed: [u8; 32] = unb64("seed", &file.seed)
        .ok()
        .and_then(|s| s.try_into().ok())
        .with_context(|| format!("{}: the seed is not 32 bytes of base64", path.display()))?;
    let keypair = Keypair::from_seed(seed);
    if keypair.public().id() != file.public {
        bail!(
            "{}: the public key does not match the seed; the file is damaged",
            path.display()
        );
    }
    Ok(LoadedKey {
        keypair,
        actor: file.actor,
    })
}

/// A public key given as base64 text, a `.pub` file, or a private key file (its public half).
pub fn public_key_arg(arg: &str) -> anyhow::Result<PublicKey> {
    if let Ok(k) = PublicKey::parse(arg.trim()) {
        return Ok(k);
    }
    let path = Path::new(arg);
    let text = fs::read_to_string(path)
        .with_context(|| format!("{arg:?} is neither a base64 public key nor a readable file"))?;
    if let Ok(k) = PublicKey::parse(text.trim()) {
        return Ok(k);
    }
    Ok(load(path)?.keypair.public())
}
