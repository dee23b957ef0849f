"""Errors shared by every app's services."""


class ServiceError(Exception):
    """A request that cannot be carried out, with a message for the person."""
