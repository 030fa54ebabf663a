//! Key files. A private key never leaves the person's device: the file is written with mode
//! 0600 and only its public half (`FILE.pub`) is meant to be shared.
//!
//! Wherever a key file is read, a passphrase-encrypted key backup (`corridor key backup`, or the
//! console's "Export encrypted backup"; the format is `corridor_core::backup`) is accepted too. Its
//! passphrase comes from `CORRIDOR_KEY_PASSPHRASE`, or is asked on the terminal.

use std::collections::HashMap;
use std::fs;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, bail};
use corridor_core::backup::{self, BackupError, EncryptedKey};
use corridor_core::crypto::{Keypair, PublicKey, b64, unb64};
use serde::{Deserialize, Serialize};

/// The `kind` of a plain (unencrypted) key file.
pub const PLAIN_KIND: &str = "corridor-ed25519-key";

/// The environment variable that holds a key backup's passphrase.
pub const PASSPHRASE_ENV: &str = "CORRIDOR_KEY_PASSPHRASE";

/// The shortest passphrase a new backup may have (the console asks for the same).
const MIN_PASSPHRASE_CHARS: usize = 10;

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
#[derive(Clone)]
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
        kind: PLAIN_KIND.into(),
        public: keypair.public().id(),
        seed: b64(&keypair.seed()),
        actor: actor.map(str::to_string),
    };
    write_private(path, &serde_json::to_string_pretty(&file)?)?;
    let pub_path = PathBuf::from(format!("{}.pub", path.display()));
    fs::write(&pub_path, format!("{}\n", keypair.public().id()))
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    Ok(pub_path)
}

/// Create `path` (never overwriting), readable by its owner only (0600), holding `json` and a
/// line feed, flushed to disk.
fn write_private(path: &Path, json: &str) -> anyhow::Result<()> {
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
    f.write_all(json.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()?;
    Ok(())
}

/// What a key file's text is, judged by its `kind`.
enum KeyText {
    Plain(KeyFile),
    Encrypted(EncryptedKey),
}

/// The advice for a file that is neither kind.
fn not_a_key(path: &Path) -> String {
    format!(
        "{} is not a corridor key file or key backup (make a key with `corridor keygen --out FILE`, \
         and an encrypted backup of it with `corridor key backup --key FILE --out BACKUP`)",
        path.display()
    )
}

fn parse_key_text(path: &Path, text: &str) -> anyhow::Result<KeyText> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| anyhow::anyhow!(not_a_key(path)))?;
    match value.get("kind").and_then(|k| k.as_str()) {
        Some(PLAIN_KIND) => Ok(KeyText::Plain(
            serde_json::from_value(value)
                .with_context(|| format!("{}: the key file is damaged", path.display()))?,
        )),
        Some(backup::KIND) => Ok(KeyText::Encrypted(
            backup::parse(text).map_err(|e| backup_error(path, e))?,
        )),
        _ => bail!(not_a_key(path)),
    }
}

/// A backup error as the person at the keyboard should read it.
fn backup_error(path: &Path, e: BackupError) -> anyhow::Error {
    match e {
        BackupError::WrongPassphrase => anyhow::anyhow!(
            "{}: the passphrase does not open this key backup (or the file was altered); check \
             the passphrase ({PASSPHRASE_ENV}, when set, is used without asking) [{}]",
            path.display(),
            e.code()
        ),
        BackupError::NotCorridor(_) => anyhow::anyhow!(not_a_key(path)),
        e => anyhow::anyhow!(
            "{}: cannot open the key backup: {e} [{}]",
            path.display(),
            e.code()
        ),
    }
}

/// Keys opened from encrypted backups in this process, so a command that reads its key twice
/// asks for the passphrase (and pays for the key derivation) once.
static OPENED: Mutex<Option<HashMap<PathBuf, LoadedKey>>> = Mutex::new(None);

/// Read a private key: a plain key file, or an encrypted key backup (its passphrase from
/// `CORRIDOR_KEY_PASSPHRASE`, else asked on the terminal).
pub fn load(path: &Path) -> anyhow::Result<LoadedKey> {
    let text = fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    match parse_key_text(path, &text)? {
        KeyText::Plain(file) => load_plain(path, file),
        KeyText::Encrypted(file) => load_encrypted(path, &file),
    }
}

fn load_plain(path: &Path, file: KeyFile) -> anyhow::Result<LoadedKey> {
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

fn load_encrypted(path: &Path, file: &EncryptedKey) -> anyhow::Result<LoadedKey> {
    let cache_key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut opened = OPENED.lock().unwrap_or_else(|e| e.into_inner());
    let opened = opened.get_or_insert_with(HashMap::new);
    if let Some(key) = opened.get(&cache_key)
        && key.keypair.public().id() == file.public
    {
        return Ok(key.clone());
    }
    let keypair = match passphrase_from_env()? {
        Some(passphrase) => {
            backup::decrypt(file, &passphrase).map_err(|e| backup_error(path, e))?
        }
        None if std::io::stdin().is_terminal() => {
            let mut attempt = 1;
            loop {
                let passphrase = ask(&format!("passphrase for {}: ", path.display()))?;
                match backup::decrypt(file, &passphrase) {
                    Ok(k) => break k,
                    Err(BackupError::WrongPassphrase) if attempt < 3 => {
                        eprintln!(
                            "that passphrase does not open {}; try again",
                            path.display()
                        );
                        attempt += 1;
                    }
                    Err(e) => return Err(backup_error(path, e)),
                }
            }
        }
        None => bail!(
            "{} is encrypted: set {PASSPHRASE_ENV} or run in a terminal to be asked",
            path.display()
        ),
    };
    let key = LoadedKey {
        keypair,
        actor: file.actor.clone(),
    };
    opened.insert(cache_key, key.clone());
    Ok(key)
}

/// The passphrase in `CORRIDOR_KEY_PASSPHRASE`, if set.
fn passphrase_from_env() -> anyhow::Result<Option<String>> {
    match std::env::var(PASSPHRASE_ENV) {
        Ok(p) => Ok(Some(p)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => bail!("{PASSPHRASE_ENV} is not valid UTF-8"),
    }
}

/// Ask for a passphrase on the terminal, without echo.
fn ask(prompt: &str) -> anyhow::Result<String> {
    rpassword::prompt_password(prompt).context("cannot read the passphrase from the terminal")
}

/// Write an encrypted backup of `key` to `out` (0600, never overwriting), under the passphrase
/// in `CORRIDOR_KEY_PASSPHRASE` or one asked twice on the terminal. The backup is opened again
/// before it is written, so a file that would not give the key back is never left behind.
pub fn write_backup(key: &LoadedKey, out: &Path) -> anyhow::Result<()> {
    if out.exists() {
        bail!(
            "{} already exists; refusing to overwrite (choose another --out, or delete it yourself)",
            out.display()
        );
    }
    let passphrase = match passphrase_from_env()? {
        Some(p) => p,
        None if std::io::stdin().is_terminal() => {
            let first = ask("new passphrase for the backup: ")?;
            let again = ask("the same passphrase again: ")?;
            if first != again {
                bail!("the two passphrases differ; nothing was written");
            }
            first
        }
        None => bail!(
            "a backup needs a passphrase: set {PASSPHRASE_ENV} or run in a terminal to be asked"
        ),
    };
    if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
        bail!(
            "the passphrase is shorter than {MIN_PASSPHRASE_CHARS} characters; the backup is only \
             as strong as its passphrase (the console asks for as many); nothing was written"
        );
    }
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).expect("the operating system provides randomness");
    getrandom::fill(&mut nonce).expect("the operating system provides randomness");
    let seed = key.keypair.seed();
    let file = backup::encrypt(
        &seed,
        key.actor.as_deref(),
        &passphrase,
        backup::ITERATIONS,
        salt,
        nonce,
    );
    let reopened = backup::decrypt(&file, &passphrase)
        .map_err(|e| anyhow::anyhow!("the backup did not open again ({e}); nothing was written"))?;
    if reopened.seed() != seed {
        bail!("the backup did not give the key back; nothing was written");
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    write_private(out, &serde_json::to_string_pretty(&file)?)
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
    // A backup names its public key in the clear: no passphrase needed to read it.
    if let Ok(KeyText::Encrypted(file)) = parse_key_text(path, &text) {
        return PublicKey::parse(&file.public).map_err(|e| {
            anyhow::anyhow!(
                "{}: the backup's public key is invalid: {e}",
                path.display()
            )
        });
    }
    Ok(load(path)?.keypair.public())
}
