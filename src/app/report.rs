//! `sweep report` and `sweep plot`.

use crate::cli::{BandArg, PlotArgs, ReportArgs};
use crate::error::Error;
use crate::report::{html, plot};

/// A directory that holds no sweep is bad input (exit 2), as for every other command.
fn holds_sweep(dir: &std::path::Path) -> Result<(), Error> {
    match crate::outdir::OutDir::new(dir).manifest().is_file() {
        true => Ok(()),
        false => Err(Error::Usage(format!("{} holds no sweep (no manifest.json)", dir.display()))),
    }
}

pub(super) fn report(a: ReportArgs) -> Result<i32, Error> {
    holds_sweep(&a.dir)?;
    let page = html::render_report_with(&a.dir, a.baseline.as_deref()).map_err(Error::Report)?;
    let path = a.out.unwrap_or_else(|| a.dir.join("report.html"));
    crate::io::write_atomic(&path, |w| std::io::Write::write_all(w, page.as_bytes()))
        .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
    eprintln!("sweep: wrote {} ({} KB)", path.display(), page.len() / 1024);
    // The report's figures pool every row: say when they came from several versions of the code.
    for line in crate::code::status(&a.dir).0 {
        eprintln!("note: {}", line.trim_start().trim_start_matches("code").trim_start());
    }
    Ok(crate::exit::SUCCESS)
}

pub(super) fn plot(a: PlotArgs) -> Result<i32, Error> {
    holds_sweep(&a.dir)?;
    let band = match a.band {
        BandArg::Sem => plot::Band::Sem,
        BandArg::Sd => plot::Band::Sd,
        BandArg::Ci95 => plot::Band::Ci95,
        BandArg::Minmax => plot::Band::MinMax,
        BandArg::None => plot::Band::None,
    };
    let req = plot::PlotRequest { x: a.x, y: a.y, by: a.by, band, log_x: a.logx, log_y: a.logy, heatmap: a.heatmap };
    // `-o -` is stdout; without -o the plot goes into the out directory, named after
    // what it shows, so a plot is never lost to a terminal.
    let path = match &a.out {
        Some(p) if p.as_os_str() == "-" => None,
        Some(p) => Some(p.clone()),
        None => Some(plot::default_path(&a.dir, &req)),
    };
    if let Some(o) = &path {
        plot::check_output_path(o).map_err(Error::Report)?;
    }
    let svg = plot::render_plot(&a.dir, &req).map_err(Error::Report)?;
    match &path {
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
            }
            crate::io::write_atomic(path, |w| std::io::Write::write_all(w, svg.as_bytes()))
                .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
            eprintln!("sweep: wrote {}", path.display());
        }
        None => print!("{svg}"),
    }
    Ok(crate::exit::SUCCESS)
}
