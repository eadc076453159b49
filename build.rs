//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the directory at
//! compile time, and cargo does not otherwise know that a new file there changes the binary.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
