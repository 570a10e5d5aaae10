// The migrations are embedded in the binary (diesel_migrations); rebuild
// when one is added, not only when an already-embedded file changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
