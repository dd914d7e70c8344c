"""Shaobing's canonical message contracts: the one definition every service uses."""
