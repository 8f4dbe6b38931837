"""A tamper-evident, append-only audit trail shared by every app (docs/audit.md)."""
