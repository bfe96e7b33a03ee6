//! What is known about every task of the grid, and `results.csv`.

pub mod columns;
mod csv_out;
mod ledger;
mod points;
pub mod refined;
mod table;
pub mod window;

pub use csv_out::{fixed_params, metric_columns, write_results, write_results_csv, Table};
pub use ledger::{Failed, Ledger};
pub use points::{write_points_csv, Plan};
pub use table::{Detail, IdIndex, Row, RowsMut, Status, TaskTable};
