"""The public API of ``kg`` changes only on purpose: ``__all__`` is pinned here, and every
name it lists resolves to the object its defining module holds."""

from __future__ import annotations

import importlib
import subprocess
import sys

import kg

PUBLIC = [
    "AuthError",
    "BuildError",
    "BuildResult",
    "Change",
    "ConfigError",
    "EmbeddedStore",
    "ForbiddenError",
    "InputError",
    "KGError",
    "NotAcceptableError",
    "NotAllowedError",
    "NotFoundError",
    "ProtectedGraphError",
    "QueryError",
    "QueryLimitExceeded",
    "QueryRejected",
    "QueryTimeout",
    "RateLimited",
    "Receipt",
    "ReasonerError",
    "RemoteStore",
    "Settings",
    "Severity",
    "SourceInfo",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreUnavailableError",
    "TooLargeError",
    "UnsupportedMediaTypeError",
    "UriTooLongError",
    "ValidationFailed",
    "ValidationReport",
    "ValidationRequest",
    "ValidationResult",
    "__version__",
    "add_document",
    "apply_write",
    "build_dataset",
    "build_into_store",
    "create_app",
    "ingest_files",
    "load_settings",
    "open_store",
    "run_validation",
    "validate_files",
    "validate_graph",
    "validate_store",
    "update_store",
]


def test_all_is_pinned() -> None:
    assert sorted(kg.__all__) == sorted(PUBLIC)
    assert sorted(kg.__all__) == sorted(["__version__", *kg._EXPORTS])


def test_every_public_name_resolves_to_its_definition() -> None:
    for name in kg.__all__:
        value = getattr(kg, name)
        if name == "__version__":
            assert isinstance(value, str)
            continue
        home = importlib.import_module(kg._EXPORTS[name])
        assert getattr(home, name) is value, name


def test_unknown_names_are_attribute_errors() -> None:
    try:
        kg.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("kg.no_such_thing resolved")


def test_errors_form_one_tree() -> None:
    """Every error a user can catch is a KGError with an exit code and an HTTP status."""
    for name in kg.__all__:
        value = getattr(kg, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, kg.KGError), name
            assert isinstance(value.exit_code, int) and 400 <= value.http_status < 600, name


def test_importing_kg_loads_no_stage() -> None:
    """``import kg`` stays cheap: the server, the validation engine and pyshacl load only when used."""
    code = "import sys, kg; print(sorted(m for m in sys.modules if m.startswith(('kg.', 'fastapi', 'pyshacl'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
