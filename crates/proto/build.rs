//! Generates the gRPC types and stubs from `proto/ovsr/v1`, with a descriptor set for
//! server reflection. protoc comes vendored, so a build needs no system protoc.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = ["schema", "validation", "search", "auth"]
        .map(|name| root.join(format!("ovsr/v1/{name}.proto")));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    config.protoc_arg(format!(
        "-I{}",
        protoc_bin_vendored::include_path()?.display()
    ));

    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("ovsr_descriptor.bin"))
        .compile_with_config(config, &files, std::slice::from_ref(&root))?;

    println!("cargo:rerun-if-changed={}", root.display());
    Ok(())
}
