//! camctl's local policy tools, run as the real binary.
