//! `ecs-env completions SHELL` and the hidden `ecs-env man`: generated from the clap
//! definitions, so they never drift from the real flags.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "ecs-env", &mut std::io::stdout());
    Ok(0)
}

pub(crate) fn man() -> Result<u8, Error> {
    clap_mangen::Man::new(Cli::command())
        .render(&mut std::io::stdout())
        .map_err(Error::Output)?;
    Ok(0)
}
