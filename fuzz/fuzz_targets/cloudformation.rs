//! Fuzz target: `ecs_env::fuzzing::cloudformation` (see src/fuzzing.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| ecs_env::fuzzing::cloudformation(data));
