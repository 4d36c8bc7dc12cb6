"""The phone simulator (sandbox mode)."""
