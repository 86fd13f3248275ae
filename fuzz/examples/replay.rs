//! Runs one target's check on files, outside libFuzzer: handy with `RFC6455_FUZZ_TRACE=1`.
//!
//! ```text
//! RFC6455_FUZZ_TRACE=1 cargo run --manifest-path fuzz/Cargo.toml --example replay -- \
//!     connection_server fuzz/seeds/connection_server/07-timers-and-backpressure
//! ```

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("usage: replay <target> <file>...");
    for path in args {
        eprintln!("== {path}");
        let data = std::fs::read(&path).expect("readable input");
        rfc6455_fuzz::corpus::check(&target, &data);
    }
}
