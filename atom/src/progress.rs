//! Progress reported by the libraries and rendered by whoever calls them.
//!
//! Libraries never print. A long operation (fetching listings, publishing atoms, hashing
//! trees, locking inputs) takes a `&dyn` [`Reporter`] and opens a [`Step`] for each phase,
//! advancing it item by item; the binary renders steps as progress bars on a terminal and
//! shows nothing otherwise. [`Silent`] is the reporter for callers that want none.
//!
//! ```
//! use atom::progress::{Reporter, Silent, Step};
//!
//! fn hash_all(items: &[&str], reporter: &dyn Reporter) {
//!     let step = Step::begin(reporter, "Hashing", Some(items.len() as u64));
//!     for item in items {
//!         step.advance(item);
//!     }
//! } // the step finishes when dropped
//!
//! hash_all(&["a", "b"], &Silent);
//! ```
//!
//! An operation whose options outlive one call keeps a shared handle,
//! `Arc<dyn Reporter>` ([`Silent::shared`] when nothing is to be shown), and lends it
//! to the functions it calls (an `Arc` of a reporter is a reporter too).

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

/// Identifies one step among those a reporter has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StepId(u64);

/// Receives progress from a library. Implementations must be cheap: `advance` may be
/// called once per object on hot paths.
pub trait Reporter: Send + Sync {
    /// A phase begins: `verb` is a capitalised present participle (`Fetching`,
    /// `Publishing`), `total` the number of items when known.
    fn begin(&self, id: StepId, verb: &str, total: Option<u64>);

    /// One more item of step `id` is done; `item` names it (a label, a URL, a path).
    fn advance(&self, id: StepId, item: &str);

    /// Step `id` is over (finished or abandoned).
    fn finish(&self, id: StepId);
}

/// A shared reporter reports through the one it shares, so `&Arc<dyn Reporter>` can be
/// lent wherever a `&dyn Reporter` is asked for.
impl<R: Reporter + ?Sized> Reporter for Arc<R> {
    fn begin(&self, id: StepId, verb: &str, total: Option<u64>) {
        (**self).begin(id, verb, total);
    }
    fn advance(&self, id: StepId, item: &str) {
        (**self).advance(id, item);
    }
    fn finish(&self, id: StepId) {
        (**self).finish(id);
    }
}

impl std::fmt::Debug for dyn Reporter + '_ {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Reporter")
    }
}

/// A reporter that shows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Silent {
    /// A shared handle on a [`Silent`] reporter, for options that hold an
    /// `Arc<dyn Reporter>`.
    pub fn shared() -> Arc<dyn Reporter> {
        Arc::new(Silent)
    }
}

impl Reporter for Silent {
    fn begin(&self, _: StepId, _: &str, _: Option<u64>) {}
    fn advance(&self, _: StepId, _: &str) {}
    fn finish(&self, _: StepId) {}
}

/// An open step of a [`Reporter`]; finishes when dropped, so an early return or an error
/// never leaves a bar behind.
pub struct Step<'a> {
    reporter: &'a dyn Reporter,
    id: StepId,
}

impl<'a> Step<'a> {
    /// Open a step on `reporter`.
    pub fn begin(reporter: &'a dyn Reporter, verb: &str, total: Option<u64>) -> Step<'a> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = StepId(NEXT.fetch_add(1, Ordering::Relaxed));
        reporter.begin(id, verb, total);
        Step { reporter, id }
    }

    /// One more item is done.
    pub fn advance(&self, item: &str) {
        self.reporter.advance(self.id, item);
    }
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        self.reporter.finish(self.id);
    }
}

impl std::fmt::Debug for Step<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Step")
            .field("id", &self.id)
            .finish()
    }
}
