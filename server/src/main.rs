//! The `tickwire` binary: runs one of the built-in games (`--scenario`), serving until
//! SIGINT or SIGTERM.

fn main() -> std::process::ExitCode {
    tickwire_server::games::main()
}
