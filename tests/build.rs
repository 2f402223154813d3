//! Compiles the Agones SDK service (`proto/agones_sdk.proto`) into the server side of
//! the fake Agones SDK server the Agones test runs (`src/fake_agones.rs`). Needs
//! `protoc` (Debian's protobuf-compiler).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/agones_sdk.proto");
    tonic_build::configure()
        .build_client(false)
        .build_server(true)
        .compile_protos(&["proto/agones_sdk.proto"], &["proto"])
        .map_err(|e| format!("compiling proto/agones_sdk.proto (is protoc installed?): {e}"))?;
    Ok(())
}
