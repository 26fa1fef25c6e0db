//! Fuzz target: `ecs_env::fuzzing::terraform_text` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ecs_env::fuzzing::terraform_text(data));
