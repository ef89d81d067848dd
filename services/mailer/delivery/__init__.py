"""Delivering newsletter issues: fan-out to one row per recipient, claimed and sent by workers."""
