"""Bounces (at send time, DSN files, webhook) and the suppression list editors manage."""
