//! The `ecs-env` binary: everything lives in the library; see `ecs_env::run`.

fn main() -> std::process::ExitCode {
    ecs_env::run(std::env::args_os())
}
