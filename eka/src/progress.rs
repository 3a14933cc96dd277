//! Rendering the libraries' progress as bars on stderr.
//!
//! [`Bars`] implements [`atom::progress::Reporter`]: each step the libraries open becomes an
//! indicatif bar (a counter when the total is known, a spinner otherwise) showing the
//! item last finished. Bars are drawn only when stderr is a terminal and the user did not
//! ask for quiet output or JSON; otherwise every call is a no-op, so scripts and tests see
//! the same stderr whether or not a library reports progress.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use atom::progress::{Reporter, StepId};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Progress bars on stderr, or nothing.
pub(crate) struct Bars {
    /// `None` when bars are hidden (not a terminal, `-q`, `--json`).
    multi: Option<MultiProgress>,
    bars: Mutex<HashMap<StepId, ProgressBar>>,
}

impl Bars {
    /// Bars that are drawn only when `visible` and stderr is a terminal.
    pub(crate) fn new(visible: bool) -> Bars {
        let target = ProgressDrawTarget::stderr();
        let multi =
            (visible && !target.is_hidden()).then(|| MultiProgress::with_draw_target(target));
        Bars {
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }

    /// Run `print` with the bars cleared from the screen, so a line printed meanwhile is
    /// not overdrawn.
    pub(crate) fn suspend<R>(&self, print: impl FnOnce() -> R) -> R {
        match &self.multi {
            Some(multi) => multi.suspend(print),
            None => print(),
        }
    }

    fn style(total: Option<u64>) -> ProgressStyle {
        let template = match total {
            Some(_) => "{prefix:>12.cyan.bold} [{bar:25}] {pos}/{len} {wide_msg}",
            None => "{prefix:>12.cyan.bold} {spinner} {pos} {wide_msg}",
        };
        ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ")
    }
}

impl Reporter for Bars {
    fn begin(&self, id: StepId, verb: &str, total: Option<u64>) {
        let Some(multi) = &self.multi else { return };
        let bar = match total {
            Some(total) => ProgressBar::new(total),
            None => ProgressBar::new_spinner(),
        };
        bar.set_style(Bars::style(total));
        bar.set_prefix(verb.to_owned());
        let bar = multi.add(bar);
        if total.is_none() {
            bar.enable_steady_tick(Duration::from_millis(120));
        }
        self.bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, bar);
    }

    fn advance(&self, id: StepId, item: &str) {
        if self.multi.is_none() {
            return;
        }
        let bars = self.bars.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(bar) = bars.get(&id) {
            bar.inc(1);
            bar.set_message(item.to_owned());
        }
    }

    fn finish(&self, id: StepId) {
        if self.multi.is_none() {
            return;
        }
        let bar = self
            .bars
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
}

impl std::fmt::Debug for Bars {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Bars")
            .field("visible", &self.multi.is_some())
            .finish()
    }
}
