"""The verification rules in force, as the matcher applies them."""
