//! The one printer for all output: data on stdout, status and diagnostics on stderr.
//!
//! Colour is decided once (flag, `NO_COLOR`, terminal detection by `anstream`) and applied
//! to every line; quiet and verbose levels filter status lines; errors print their cause
//! chain and `hint:` lines; a command's result is a [`crate::view::View`], shown by
//! [`Printer::show`] as a JSON document or as text. The printer also owns the progress
//! bars the libraries drive ([`Printer::progress`]); lines printed while bars are drawn
//! suspend them, so bars and messages never garble each other.

use std::{fmt::Display, sync::Arc};

use anstream::{eprintln, println};
use anstyle::{AnsiColor, Style};
use atom::progress::Reporter;

use crate::{
    cli::ColorChoice,
    progress::Bars,
    view::{Document, View},
};

const STATUS: Style = AnsiColor::Green.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();

/// Prints everything eka shows a person or a script.
#[derive(Debug, Clone)]
pub(crate) struct Printer {
    /// -2 silent, -1 quiet, 0 normal, 1.. verbose.
    verbosity: i8,
    json: bool,
    bars: Arc<Bars>,
    /// The same bars, as the handle ops keep in their options.
    reporter: Arc<dyn Reporter>,
}

impl Printer {
    pub(crate) fn new(quiet: u8, verbose: u8, color: ColorChoice, json: bool) -> Self {
        let choice = match color {
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
            ColorChoice::Auto => anstream::ColorChoice::Auto,
        };
        choice.write_global();
        let verbosity =
            i8::try_from(verbose).unwrap_or(i8::MAX) - i8::try_from(quiet).unwrap_or(2).min(2);
        // Bars only for a person: not under `-q` or `--json` (and `Bars` itself draws
        // nothing when stderr is not a terminal).
        let bars = Arc::new(Bars::new(verbosity >= 0 && !json));
        Printer {
            verbosity,
            json,
            reporter: bars.clone(),
            bars,
        }
    }

    /// Where libraries report progress; rendered as bars on a terminal, else nothing.
    /// Lent as is to a library call taking a `&dyn Reporter`; `.clone()` gives an op's
    /// options their own handle.
    pub(crate) fn progress(&self) -> &Arc<dyn Reporter> {
        &self.reporter
    }

    /// Whether data should be printed as JSON.
    pub(crate) fn json(&self) -> bool {
        self.json
    }

    /// A status line on stderr, cargo style: `   Created atom `hello` at ...`.
    pub(crate) fn status(&self, verb: &str, message: impl Display) {
        if self.verbosity >= 0 {
            self.bars
                .suspend(|| eprintln!("{STATUS}{verb:>12}{STATUS:#} {message}"));
        }
    }

    /// A detail shown only with `-v`.
    pub(crate) fn detail(&self, message: impl Display) {
        if self.verbosity >= 1 {
            self.bars.suspend(|| eprintln!("{message}"));
        }
    }

    /// A warning on stderr (hidden by `-qq`).
    pub(crate) fn warn(&self, message: impl Display) {
        if self.verbosity >= -1 {
            self.bars
                .suspend(|| eprintln!("{WARNING}warning{WARNING:#}: {message}"));
        }
    }

    /// A hint on its own line.
    pub(crate) fn hint(&self, message: impl Display) {
        if self.verbosity >= -1 {
            self.bars
                .suspend(|| eprintln!("{HINT}hint{HINT:#}: {message}"));
        }
    }

    /// An error, each of its causes once, and its hint on its own line; `hint:` lines
    /// inside messages (a located diagnostic ends with one) are highlighted.
    pub(crate) fn error(&self, error: &crate::error::Error) {
        let mut shown = String::new();
        for (index, cause) in error.chain().enumerate() {
            let text = cause.to_string();
            if index == 0 {
                self.bars
                    .suspend(|| eprintln!("{ERROR}error{ERROR:#}: {}", highlight_hints(&text)));
            } else {
                self.bars.suspend(|| {
                    eprintln!("  {ERROR}caused by{ERROR:#}: {}", highlight_hints(&text))
                });
            }
            shown.push_str(&text);
            shown.push('\n');
        }
        if let Some(hint) = error.hint() {
            // A message that already ends with this hint line says it.
            if !shown.contains(&format!("hint: {hint}")) {
                self.hint(hint);
            }
        }
    }

    /// A line of data on stdout.
    pub(crate) fn data(&self, line: impl Display) {
        println!("{line}");
    }

    /// An error line for one item of a run that goes on (the run's own error goes
    /// through [`Printer::error`]).
    pub(crate) fn problem(&self, message: impl Display) {
        self.bars
            .suspend(|| eprintln!("{ERROR}error{ERROR:#}: {message}"));
    }

    /// A command's result: status lines, then a JSON document with `--json` (when the view
    /// is one) or the human form.
    pub(crate) fn show<V: View>(&self, view: &V) {
        view.render_status(self);
        if self.json && V::DOCUMENT {
            match serde_json::to_string_pretty(&Document::new(view)) {
                Ok(text) => println!("{text}"),
                Err(error) => self.problem(format_args!("cannot encode JSON: {error}")),
            }
        } else {
            view.render_human(self);
        }
    }
}

fn highlight_hints(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("hint: ") {
            Some(rest) => format!("{HINT}hint{HINT:#}: {rest}"),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}
