"""Failures that stay with one file or one advisor (issue #12): which errors a night contains, and how they are
told — in Chinese and English, one line, no traceback.

Rust libraries (polars, calamine via fastexcel, deltalake) turn a panic into `pyo3_runtime.PanicException`, a
`BaseException`: `except Exception` lets it through and the whole night dies. It is contained like any error;
KeyboardInterrupt, SystemExit and the rest of BaseException are not."""

from __future__ import annotations

from typing import Any


def is_rust_panic(err: BaseException) -> bool:
    """pyo3 makes one PanicException class per extension module, each in the pseudo-module `pyo3_runtime`."""
    return any(t.__name__ == "PanicException" for t in type(err).__mro__)


def is_contained(err: BaseException) -> bool:
    """An error one file or one advisor's output may cause, and so the night survives."""
    return isinstance(err, Exception) or is_rust_panic(err)


def one_line(err: BaseException, limit: int = 300) -> str:
    """`Type: first line of the message`, at most `limit` characters — never a traceback."""
    lines = str(err).strip().splitlines()
    text = f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reason(zh: str, en: str, err: BaseException) -> str:
    """`zh / en: Type: message` — what a `.why.txt` and run.json say."""
    return f"{zh} / {en}: {one_line(err)}"


def failure(code: str, zh: str, en: str, err: BaseException, **where: Any) -> dict[str, Any]:
    """run.json's `failures` entry (the shape of the night's warnings: code, zh, en, and where it happened)."""
    return {"code": code, **where, "zh": f"{zh}：{one_line(err)}", "en": f"{en}: {one_line(err)}"}
