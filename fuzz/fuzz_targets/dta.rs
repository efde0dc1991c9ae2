//! Stata `.dta` bytes → `Frame`: never a panic, abort or hang; errors render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gravity_model::fuzzing::dta(data);
});
