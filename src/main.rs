use clap::Parser;

fn main() {
    let cli = sweep::cli::Cli::parse();
    std::process::exit(sweep::app::main(cli));
}
