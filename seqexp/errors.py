"""Errors meant for people: the CLI prints their message and exits with code 2, no traceback."""


class UserError(Exception):
    """A mistake in the user's config, data or command line; the message says what would fix it."""

    exit_code = 2


class ConfigError(UserError):
    """A config that cannot be read or does not validate; one line per problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class DataError(UserError):
    """Input data that cannot be used as configured (missing column, one class, empty file...)."""
