//! Black-box tests: the real `ecs-env` binary against the AWS API emulator on 127.0.0.1.

// Test helpers are `pub` for the sibling modules of this one test crate.
#![allow(unreachable_pub)]

mod action;
mod batch;
mod canary;
mod containers;
mod emulator;
mod exit_codes;
mod export;
mod faults;
mod golden;
mod hostile;
mod identity;
mod inspect;
mod library;
mod proxy;
mod redteam;
mod region;
mod run;
mod sources;
mod task_role;
mod util;
mod vectors;
mod watch;
