//! Verity's brief renderers (work in progress).
