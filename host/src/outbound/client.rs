//! Placeholder: the SSRF-safe HTTP client (being written).
