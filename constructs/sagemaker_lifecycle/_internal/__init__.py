"""Helpers shared by every construct: nag acknowledgements, validation, asset paths.

Nothing here is public API; constructs import from these modules so that a rule lives in
one place only.
"""
