"""Notifications (政策找人): whom to contact about which benefit, and the contact's steps."""
