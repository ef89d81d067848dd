"""Every mail both services send: built here, written to the outbox, delivered by the worker."""
