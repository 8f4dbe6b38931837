"""Primitives shared by every app (money, base models). Imports no app."""
