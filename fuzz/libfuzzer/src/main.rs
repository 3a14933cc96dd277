//! One libFuzzer binary for every target: `EKA_FUZZ_TARGET` names the one to run
//! (see `eka_fuzz::TARGETS`).
#![no_main]

use std::sync::OnceLock;

static TARGET: OnceLock<eka_fuzz::Target> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let target = TARGET.get_or_init(|| {
        let name = std::env::var("EKA_FUZZ_TARGET").unwrap_or_default();
        eka_fuzz::target(&name)
            .unwrap_or_else(|| panic!("set EKA_FUZZ_TARGET to one of the targets, not `{name}`"))
    });
    target(data);
});
