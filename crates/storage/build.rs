//! Rebuilds when a migration is added: `sqlx::migrate!()` embeds `migrations/` at compile time
//! but cannot itself tell cargo to watch the directory.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
