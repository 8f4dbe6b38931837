"""Pieces every app's API shares: errors, pagination, permissions."""
