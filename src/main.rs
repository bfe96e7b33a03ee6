use clap::Parser;

fn main() {
    // Like other Unix tools, end quietly when stdout is a closed pipe (`sweep ... | head`)
    // instead of panicking on the next print.
    // SAFETY: restoring the default disposition of SIGPIPE before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = sweep::cli::Cli::parse();
    std::process::exit(sweep::app::main(cli));
}
