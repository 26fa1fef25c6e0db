//! `ecs-env completions SHELL` and the hidden `ecs-env man`: generated from the clap
//! definitions, so they never drift from the real flags.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;

pub(crate) fn completions(shell: clap_complete::Shell) -> Result<u8, Error> {
    let mut cmd = Cli::command();
    // Into a buffer first: clap_complete panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "ecs-env", &mut script);
    std::io::stdout()
        .write_all(&script)
        .map_err(Error::Output)?;
    Ok(crate::exit::SUCCESS)
}

pub(crate) fn man() -> Result<u8, Error> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(Error::Output)?;
    std::io::stdout().write_all(&page).map_err(Error::Output)?;
    Ok(crate::exit::SUCCESS)
}
