"""Subscriptions: double opt-in, stop links, the subscriber register, its import/export and GDPR."""
