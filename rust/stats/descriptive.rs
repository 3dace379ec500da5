//! Placeholder module; filled in by the stats work.
