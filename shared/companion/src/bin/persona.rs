//! `persona`: imports a community Character Card with the age the operator vouches for, or
//! exports a persona as a card PNG (`make persona CARD=… AGE=…`; see `personas::cli`).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    companion::personas::cli::main(&args)
}
