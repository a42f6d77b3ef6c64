"""Other tools' prompt formats (Prompty, Dotprompt, Langfuse) to and from native templates."""

from .losses import Conversion, ExportedFile, Loss

__all__ = ["Conversion", "ExportedFile", "Loss"]
