"""Upload a model artifact to S3 and print how to point the function at it.

    python exporter/upload.py artifacts/model.npz s3://bucket/models/model.npz

The object carries its SHA-256 twice: as S3's own ChecksumSHA256 (S3 rejects a corrupted
upload, and boto3 verifies it again on download) and as ``sha256`` user metadata, which
the function checks against the bytes it loads and uses to verify its /tmp copy. Neither
stops someone who can write the object: the printed MODEL_SHA256 (ModelSha256 in the
template) does, since a function pinned to it refuses any other file. So the output leads
with the deploy command that sets the pin.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

try:  # a file run before the project is installed finds no packages: say so in one line
    import exporter  # noqa: F401
except ModuleNotFoundError:
    sys.exit("error: the project is not installed: run `pip install -e .` in its directory")

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from runtime.config import DEFAULT_MODEL_MAX_BYTES, ConfigError, parse_s3_uri
from runtime.model import Model, ModelError

# Where scripts/deploy.sh leaves the template it deployed (default DIST_DIR and stack).
DEPLOYED_TEMPLATE = "dist/template-sms-spam-lambda.yaml"


class UploadError(RuntimeError):
    """The upload did not happen (or did not verify); the message says why."""


@dataclass(frozen=True)
class UploadResult:
    uri: str
    version_id: str | None  # None unless the bucket has versioning enabled
    sha256: str
    size: int

    def environment(self) -> dict[str, str]:
        """The function's environment variables for this object."""
        env = {"MODEL_S3_URI": self.uri}
        if self.version_id:
            env["MODEL_S3_VERSION"] = self.version_id
        env["MODEL_SHA256"] = self.sha256
        return env

    def env_lines(self) -> str:
        return "\n".join(f"{name}={value}" for name, value in self.environment().items())

    def deploy_command(self) -> str:
        """``sam deploy`` with the template's parameters for this object, the pin included,
        for the stack scripts/deploy.sh made: its template names the code zip it uploaded
        (template.yaml's own CodeUri is the source `sam build` builds)."""
        parameters = [f"ModelS3Uri={self.uri}"]
        if self.version_id:
            parameters.append(f"ModelS3Version={self.version_id}")
        parameters.append(f"ModelSha256={self.sha256}")
        return f"sam deploy --template-file {DEPLOYED_TEMPLATE} --parameter-overrides " + " ".join(
            parameters
        )


def upload_model(
    path: Path,
    s3_uri: str,
    *,
    endpoint_url: str | None = None,
    max_bytes: int = DEFAULT_MODEL_MAX_BYTES,
) -> UploadResult:
    """Upload a valid model file to ``s3_uri`` with its SHA-256 recorded; raises UploadError.

    ``max_bytes`` is the function's MODEL_MAX_BYTES: a larger file would only be refused.
    """
    try:
        bucket, key = parse_s3_uri(s3_uri)
    except ConfigError as exc:
        raise UploadError(str(exc)) from None
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise UploadError(
                f"{os.fspath(path)} is {size} bytes, more than the function's "
                f"MODEL_MAX_BYTES ({max_bytes}); raise it for this function first"
            )
        data = Path(path).read_bytes()
    except OSError as exc:
        raise UploadError(f"cannot read {os.fspath(path)}: {exc.strerror}") from None
    try:
        model = Model.from_bytes(data)  # never publish a file the function would refuse
    except ModelError as exc:
        raise UploadError(f"{os.fspath(path)} is not a valid model: {exc}") from None

    digest = hashlib.sha256(data).digest()
    checksum = base64.b64encode(digest).decode("ascii")
    try:
        client = boto3.client("s3", endpoint_url=endpoint_url)
        response = client.put_object(
            Bucket=bucket,
            Key=key,
            Body=data,
            ContentType="application/octet-stream",
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=checksum,
            Metadata={"sha256": model.model_id},
        )
    except (BotoCoreError, ClientError) as exc:
        raise UploadError(f"upload to s3://{bucket}/{key} failed: {exc}") from None
    returned = response.get("ChecksumSHA256")
    if returned is not None and returned != checksum:
        raise UploadError(f"S3 stored checksum {returned}, expected {checksum}")
    return UploadResult(
        uri=f"s3://{bucket}/{key}",
        version_id=response.get("VersionId"),
        sha256=model.model_id,
        size=len(data),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("artifact", type=Path, help="model file, e.g. artifacts/model.npz")
    parser.add_argument("s3_uri", metavar="S3_URI", help="destination, s3://bucket/key")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("MODEL_S3_ENDPOINT_URL") or None,
        help="S3 endpoint (default: $MODEL_S3_ENDPOINT_URL, else boto3's own resolution, "
        "which honours AWS_ENDPOINT_URL_S3)",
    )
    parser.add_argument(
        "--max-bytes",
        type=int,
        default=os.environ.get("MODEL_MAX_BYTES") or str(DEFAULT_MODEL_MAX_BYTES),
        help="refuse a larger file: the function's MODEL_MAX_BYTES "
        f"(default: $MODEL_MAX_BYTES, else {DEFAULT_MODEL_MAX_BYTES})",
    )
    args = parser.parse_args(argv)
    try:
        result = upload_model(
            args.artifact, args.s3_uri, endpoint_url=args.endpoint_url, max_bytes=args.max_bytes
        )
    except UploadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    version = f" (version {result.version_id})" if result.version_id else ""
    print(
        f"Uploaded {args.artifact} ({result.size} bytes) to {result.uri}{version}.\n\n"
        "Deploy pinned to exactly this file (the function refuses any other):\n\n"
        f"    {result.deploy_command()}\n\n"
        "or configure the function with (keep MODEL_SHA256: it is what stops a replaced "
        "object\nfrom being served; the object's own checksums only detect corruption):",
        file=sys.stderr,
    )
    print(result.env_lines())
    return 0


if __name__ == "__main__":
    sys.exit(main())
