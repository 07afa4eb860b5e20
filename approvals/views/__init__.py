"""Browser pages of items, sign-offs and delegations."""
