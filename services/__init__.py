"""The two web services (mailer, survey), the worker and the ``utskick`` command."""
