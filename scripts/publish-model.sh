#!/usr/bin/env bash
# Put a model where the function can read it: create the model bucket (once, private), and
# upload the model under a key named by its SHA-256, so a new model never replaces the object
# a running function is pinned to. Prints, one per line, REGION=, BUCKET=, MODEL_S3_URI=,
# MODEL_S3_VERSION= (versioned buckets only) and MODEL_SHA256= for scripts/deploy.sh.
#
#   scripts/publish-model.sh [MODEL]     (default: artifacts/model.npz)
#
# Settings from the environment: MODEL_BUCKET (default sms-spam-model-ACCOUNT-REGION),
# PYTHON (default .venv/bin/python). Credentials and region are the AWS CLI's own.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

case "${1:-}" in -h|--help) usage; exit 0;; esac
MODEL="${1:-$ROOT/artifacts/model.npz}"
[[ -f "$MODEL" ]] || die "no model at $MODEL: run '$PYTHON exporter/export.py --recipe best --data path/to/spam.csv' first"

REGION="$(resolve_region)"
export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
ACCOUNT="$(account_id)"
BUCKET="${MODEL_BUCKET:-sms-spam-model-$ACCOUNT-$REGION}"

if aws s3api head-bucket --bucket "$BUCKET" 2>/dev/null; then
    say "bucket $BUCKET exists"
else
    say "creating bucket $BUCKET in $REGION"
    if [[ "$REGION" == us-east-1 ]]; then  # the one region that refuses a LocationConstraint
        aws s3api create-bucket --bucket "$BUCKET" >/dev/null
    else
        aws s3api create-bucket --bucket "$BUCKET" \
            --create-bucket-configuration LocationConstraint="$REGION" >/dev/null
    fi
fi
aws s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
    BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true

SHA256="$(sha256_of "$MODEL")"
printf 'REGION=%s\nBUCKET=%s\n' "$REGION" "$BUCKET"
# upload.py refuses a file the runtime would refuse and prints MODEL_S3_URI/_VERSION/SHA256.
"$PYTHON" "$ROOT/exporter/upload.py" "$MODEL" "s3://$BUCKET/models/$SHA256.npz"
