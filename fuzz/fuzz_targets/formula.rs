//! Formula text → `Formula`: never a panic; errors render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    gravity_model::fuzzing::formula(data);
});
