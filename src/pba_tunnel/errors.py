"""The package's exceptions: one base class and a few precise subclasses.

Each error carries a stable ``code`` (the CLI's JSON output; the MCP layer's choice of protocol error), the
facts as a message, and the facts again as attributes. A remedy that names a command-line option or an MCP
tool argument belongs to that adapter (``cli/errors.py``, ``server/``), which words it from ``code`` and the
attributes: the core does not know who is asking.
"""

from __future__ import annotations


class PbaError(Exception):
    """Base class of every error MCP-PBA-TUNNEL raises on purpose."""

    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(PbaError):
    """A template (or one of its versions) does not exist.

    ``name`` is the template asked for and ``deleted`` says it exists but is soft-deleted, when the raiser
    knows; adapters word their remedy (list the names, restore it) from them.
    """

    code = "not_found"

    def __init__(self, message: str, *, name: str | None = None, deleted: bool = False) -> None:
        super().__init__(message)
        self.name = name
        self.deleted = deleted


class LabelNotFoundError(NotFoundError):
    """A template has no such label (to a client that sees only that label, the template does not exist)."""

    code = "label_not_found"

    def __init__(self, message: str, *, name: str, label: str) -> None:
        super().__init__(message, name=name)
        self.label = label


class VersionNotFoundError(NotFoundError):
    """A template exists but has no such version; its versions are 1..``newest``."""

    code = "version_not_found"

    def __init__(self, message: str, *, name: str, version: int, newest: int | None = None) -> None:
        super().__init__(message, name=name)
        self.version = version
        self.newest = newest


class VersionNotShownError(NotFoundError):
    """A client that sees one label's versions asked for another version of ``name`` (``version``; None: several,
    as a history or a diff would show). To that client only the ``label`` version exists."""

    code = "version_not_shown"

    def __init__(self, *, name: str, label: str, version: int | None = None) -> None:
        super().__init__(f"template '{name}' shows only its '{label}' version here", name=name)
        self.label = label
        self.version = version


class InvalidLabelError(PbaError):
    """A label name that is not a slug, or ``latest`` (which always means the newest version)."""

    code = "invalid_label"

    def __init__(self, message: str, *, label: str) -> None:
        super().__init__(message)
        self.label = label


class AdminRequiredError(PbaError):
    """A change only the ``admin`` scope may make, such as moving a protected label."""

    code = "admin_required"

    def __init__(self, message: str, *, label: str | None = None) -> None:
        super().__init__(message)
        self.scope = "admin"
        self.label = label


class InvalidTemplateError(PbaError):
    """A template source does not parse or does not validate."""

    code = "invalid_template"

    def __init__(
        self, message: str, *, path: str | None = None, field: str | None = None, line: int | None = None
    ) -> None:
        where = ":".join(str(part) for part in (path, line) if part is not None)
        prefix = f"{where}: " if where else ""
        field_part = f"{field}: " if field else ""
        super().__init__(f"{prefix}{field_part}{message}")
        self.path = path
        self.field = field
        self.line = line
        self.reason = message


class ArgumentError(PbaError):
    """Arguments given to a render are missing, unknown or of the wrong type."""

    code = "invalid_arguments"


class ArgumentTypeError(ArgumentError):
    """An argument's value is of another JSON type than the one declared (a number for a string, say)."""

    def __init__(self, message: str, *, template: str, name: str, expected: str, value: object) -> None:
        super().__init__(message)
        self.template = template
        self.name = name
        self.expected = expected
        self.value = value


class MissingArgumentsError(ArgumentError):
    """One or more required arguments were not given."""

    code = "missing_arguments"

    def __init__(self, template: str, missing: list[str]) -> None:
        super().__init__(f"template '{template}' needs argument(s) {', '.join(missing)}")
        self.template = template
        self.missing = missing


class UnknownArgumentsError(ArgumentError):
    """Arguments were given that the template does not declare."""

    code = "unknown_arguments"

    def __init__(self, template: str, unknown: list[str], declared: list[str]) -> None:
        known = ", ".join(declared) or "none"
        super().__init__(f"template '{template}' has no argument(s) {', '.join(unknown)}; it declares: {known}")
        self.template = template
        self.unknown = unknown
        self.declared = declared


class LimitExceededError(PbaError):
    """A configured limit was hit; subclasses say which."""

    code = "limit_exceeded"


class SourceTooLargeError(LimitExceededError):
    """The template source is larger than ``max_source_bytes``."""

    code = "source_too_large"


class ArgumentTooLargeError(LimitExceededError):
    """An argument value is larger than ``max_argument_bytes``."""

    code = "argument_too_large"


class OutputTooLargeError(LimitExceededError):
    """Rendering produced more than ``max_output_bytes``."""

    code = "output_too_large"


class RenderTimeoutError(LimitExceededError):
    """Rendering ran longer than ``max_render_seconds``."""

    code = "render_timeout"


class RangeTooLargeError(LimitExceededError):
    """A template asked for a ``range()``, repetition or number beyond the sandbox's bound."""

    code = "range_too_large"


class NumberTooLargeError(RangeTooLargeError):
    """Arithmetic would produce an integer wider than ``max_integer_bits``."""

    code = "number_too_large"


class RenderMemoryError(OutputTooLargeError):
    """One render would create more text and list items in total than ``max_render_memory``."""

    code = "render_memory_exceeded"


class TooManyIncludesError(RangeTooLargeError):
    """One render would render more partials than ``max_includes``."""

    code = "too_many_includes"


class RecursionLimitError(LimitExceededError):
    """A template recursed deeper than the sandbox allows."""

    code = "recursion_limit"


class RenderError(PbaError):
    """The template failed while rendering (undefined value, bad filter use)."""

    code = "render_error"


class SandboxViolationError(RenderError):
    """The template tried to reach something the sandbox forbids."""

    code = "sandbox_violation"


class ConflictError(PbaError):
    """A write was based on a version that is no longer current, or a name is taken."""

    code = "conflict"


class InvalidParameterError(PbaError):
    """A request parameter (``parameter``) has a value outside what it accepts, such as a version out of range."""

    code = "invalid_parameter"

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class ScopeError(PbaError):
    """The request's token lacks the scope an operation needs (``needed``; it has ``have``)."""

    code = "insufficient_scope"

    def __init__(self, message: str, *, needed: str, have: str) -> None:
        super().__init__(message)
        self.needed = needed
        self.have = have


class TokenError(PbaError):
    """A token cannot be created or revoked as asked (a bad name, scope or lifetime)."""

    code = "invalid_token_request"


class QueryError(PbaError):
    """A search query that cannot be run as written."""

    code = "invalid_query"


class StoreError(PbaError):
    """The store cannot be opened or used (missing, corrupt, unreachable, wrong schema)."""

    code = "store_error"


class ProviderError(PbaError):
    """An LLM provider failed or is not configured."""

    code = "provider_error"


class ProviderNotConfiguredError(ProviderError):
    """A provider lacks the settings it needs (an API key, a base URL); ``provider`` names it."""

    code = "provider_not_configured"

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message)
        self.provider = provider


class ProviderResponseTooLargeError(ProviderError):
    """A provider's HTTP response was larger than ``limit`` bytes (``max_response_bytes``); nothing was kept."""

    code = "provider_response_too_large"

    def __init__(self, message: str, *, provider: str, limit: int) -> None:
        super().__init__(message)
        self.provider = provider
        self.limit = limit


class ConfigError(PbaError):
    """The configuration (environment or options) is invalid."""

    code = "config_error"


class EnhanceError(PbaError):
    """An enhancement failed: the model's answer was no valid template, or the request cannot be served."""

    code = "enhance_failed"


class InstructionMissingError(EnhanceError):
    """The instruction template an enhancement goal uses is not in the store; ``template`` names it."""

    code = "instruction_missing"

    def __init__(self, message: str, *, template: str) -> None:
        super().__init__(message)
        self.template = template


class EnhanceDeadlineError(EnhanceError):
    """An enhancement (every model call, retry and wait) ran past ``seconds`` (``enhance_deadline_seconds``)."""

    code = "enhance_deadline_exceeded"

    def __init__(self, message: str, *, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class EnhanceRequestError(EnhanceError):
    """An enhancement request is inconsistent (e.g. both a name and a source, or save without a name)."""

    code = "invalid_enhance_request"


class ConversionError(PbaError):
    """A file of another tool's format (Prompty, Dotprompt, Langfuse) cannot be converted."""

    code = "conversion_failed"


class LossyConversionError(ConversionError):
    """``--strict`` was asked and a conversion would lose or approximate something; ``count`` says how much."""

    code = "lossy_conversion"

    def __init__(self, message: str, *, count: int) -> None:
        super().__init__(message)
        self.count = count


class PeriodError(PbaError):
    """A period (``7d``, ``12h``, ``2w``) that does not parse or is longer than ``longest_days``."""

    code = "invalid_period"

    def __init__(self, message: str, *, text: str, longest_days: int) -> None:
        super().__init__(message)
        self.text = text
        self.longest_days = longest_days
