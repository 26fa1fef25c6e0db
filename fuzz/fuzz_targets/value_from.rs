//! Fuzz target: `ecs_env::fuzzing::value_from` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ecs_env::fuzzing::value_from(data));
