"""Client creation and error translation: the one place botocore exceptions become ``AwsError``.

Layer: aws. Every call to AWS in this package goes through :func:`call`, so that a failed
request always surfaces as one readable :class:`~pipeweaver.errors.AwsError` naming the
operation and AWS's error code, never as a botocore traceback.
"""

from __future__ import annotations

from typing import Any

import botocore.exceptions
from botocore import xform_name

from ..errors import AwsError

__all__ = ["Client", "call", "default_client", "error_code"]

#: A boto3 client. Typed loosely on purpose: the service stubs are an optional extra, and
#: every request is checked against botocore's model at run time anyway.
Client = Any


def default_client(service: str, session: Any = None, **kwargs: Any) -> Client:
    """
    Create a boto3 client for *service*, from *session* when given (imported lazily).

    Raises:
        AwsError: with code ``NoRegion`` when no region is configured anywhere boto3 looks.
    """
    try:
        if session is not None:
            return session.client(service, **kwargs)
        import boto3

        factory: Any = boto3.client  # the stubs' overloads want a literal service name
        return factory(service, **kwargs)
    except botocore.exceptions.NoRegionError:
        raise AwsError(
            f"no AWS region is configured for {service}: pass --region (on the command line), set "
            f"{_region_variable()}, or set a region in your AWS profile",
            code="NoRegion",
        ) from None


def _region_variable() -> str:
    """The environment variable the installed botocore reads the region from.

    botocore reads ``AWS_DEFAULT_REGION`` only (not ``AWS_REGION``, which Lambda and CodeBuild
    also set): the message names what this botocore reads, from its own table.
    """
    from botocore import configprovider

    table = getattr(configprovider, "BOTOCORE_DEFAUT_SESSION_VARIABLES", None) or getattr(
        configprovider, "BOTOCORE_DEFAULT_SESSION_VARIABLES", {}
    )
    names = table.get("region", (None, "AWS_DEFAULT_REGION"))[1]
    return " or ".join(names) if isinstance(names, list | tuple) else str(names or "AWS_DEFAULT_REGION")


def error_code(exc: BaseException) -> str:
    """AWS's error code of a wrapped or raw client error (``""`` when there is none)."""
    if isinstance(exc, AwsError):
        return exc.code
    if isinstance(exc, botocore.exceptions.ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def call(client: Client, operation: str, /, **params: Any) -> dict[str, Any]:
    """
    Call *operation* (AWS's name, e.g. ``"GetPipeline"``) and translate failures.

    Raises:
        AwsError: with ``operation`` and ``code`` set, for service errors, invalid
            parameters, missing credentials and connection failures.
    """
    method = getattr(client, xform_name(operation))
    try:
        result: dict[str, Any] = method(**params)
    except botocore.exceptions.ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")) or str(exc)
        raise AwsError(f"{operation} failed: {code}: {message}", operation=operation, code=code) from None
    except botocore.exceptions.ParamValidationError as exc:
        raise AwsError(
            f"{operation} was not sent: the request does not match the API model: {exc.kwargs.get('report', exc)}",
            operation=operation,
            code="ParamValidationError",
        ) from None
    except botocore.exceptions.NoCredentialsError:
        raise AwsError(
            f"{operation} was not sent: no AWS credentials found; configure a profile, environment "
            "variables or an instance role (see boto3's credentials guide)",
            operation=operation,
            code="NoCredentials",
        ) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise AwsError(f"{operation} failed: {exc}", operation=operation, code=type(exc).__name__) from None
    return result
