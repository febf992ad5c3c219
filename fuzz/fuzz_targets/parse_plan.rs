//! Fuzz the plan parser and edits: no input may panic, and a tick must leave a parseable plan.
#![no_main]

use expanse::plan::{self, Plan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(parsed) = Plan::from_bytes(data) else {
        return;
    };
    let text = std::str::from_utf8(data).expect("from_bytes accepted it, so it is UTF-8");
    for part in &parsed.parts {
        if let Ok(ticked) = plan::tick(text, part.number, "Completed 2026-11-24 10:00") {
            assert!(Plan::from_bytes(ticked.as_bytes()).is_ok());
            let _ = plan::untick(&ticked, part.number);
        }
    }
});
