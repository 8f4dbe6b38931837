"""The portal's pages, one module per page family (docs/portal.md)."""
