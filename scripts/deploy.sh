#!/usr/bin/env bash
# From an exported model to a running endpoint, stopping at the first failure:
#   1. scripts/publish-model.sh: the private model bucket, and the model under its SHA-256
#   2. build_zip.py --no-model for the target, and the zip uploaded under its SHA-256
#      (with --layer: NumPy published as a Lambda layer, and the code-only zip)
#   3. sam deploy (settings in samconfig.toml) of template.yaml with CodeUri set to that zip,
#      and the model pinned by ModelSha256
#   4. PREDICT_URL= and HEALTH_URL= printed from the stack's outputs
#
#   scripts/deploy.sh [options] [-- Name=Value ...]
#     --model PATH     model to deploy (default: artifacts/model.npz)
#     --python X.Y     Lambda Python runtime, 3.12 or 3.13 (default: 3.13)
#     --arch ARCH      x86_64 or arm64 (default: x86_64)
#     --layer          NumPy as a Lambda layer, the function as a code-only zip
#     --stack NAME     CloudFormation stack (default: sms-spam-lambda)
#     Name=Value ...   more template parameters, e.g. CorsAllowOrigin='*' MemorySize=1024
#                      (one left out keeps its value from the previous deploy)
#
# Run it again after a new export to roll the new model out: it is uploaded beside the old
# one, and one stack update switches ModelS3Uri and ModelSha256 together.
# Environment: PYTHON (default .venv/bin/python), SAM (default sam), MODEL_BUCKET,
# DIST_DIR (where the zips and the deployed template-STACK.yaml are written, default dist/).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "$0")/common.sh"

MODEL="$ROOT/artifacts/model.npz" TARGET_PYTHON=3.13 ARCH=x86_64 LAYER="" STACK=sms-spam-lambda
EXTRA=()
while (($#)); do
    case "$1" in
        --model) MODEL="$2"; shift 2;;
        --python) TARGET_PYTHON="$2"; shift 2;;
        --arch) ARCH="$2"; shift 2;;
        --layer) LAYER=1; shift;;
        --stack) STACK="$2"; shift 2;;
        -h|--help) usage; exit 0;;
        --) shift; EXTRA=("$@"); break;;
        *) usage >&2; die "unknown option $1";;
    esac
done
SAM="${SAM:-sam}"
command -v aws >/dev/null || die "the AWS CLI is needed: '$PYTHON -m pip install awscli' or see AWS's install guide"
command -v "$SAM" >/dev/null || die "the SAM CLI is needed (https://docs.aws.amazon.com/serverless-application-model/)"

# 1. The model, pinned: publish-model.sh prints NAME=VALUE lines; read the ones we expect.
published="$("$ROOT/scripts/publish-model.sh" "$MODEL")"
REGION="" BUCKET="" MODEL_S3_URI="" MODEL_S3_VERSION="" MODEL_SHA256=""
while IFS='=' read -r name value; do
    case "$name" in
        REGION|BUCKET|MODEL_S3_URI|MODEL_S3_VERSION|MODEL_SHA256) printf -v "$name" '%s' "$value";;
    esac
done <<<"$published"
[[ -n "$MODEL_SHA256" && -n "$MODEL_S3_URI" ]] || die "publish-model.sh printed no MODEL_SHA256"
export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"

# 2. The package for the target, named by the build, uploaded under its content's digest
# (a new key is what makes CloudFormation update the function's code).
build=(--no-model --check-model "$MODEL" --python "$TARGET_PYTHON" --arch "$ARCH"
    --out-dir "${DIST_DIR:-$ROOT/dist}")
[[ -z "$LAYER" ]] || build+=(--layer)
"$PYTHON" "$ROOT/build_zip.py" "${build[@]}" >&2
outputs="$("$PYTHON" "$ROOT/build_zip.py" "${build[@]}" --show-outputs)"
zip_of() { awk -v kind="$1" '$1 == kind { print $2 }' <<<"$outputs"; }
upload_zip() {  # upload_zip FILE -> prints the key
    local key
    key="code/$(basename "$1" .zip)-$(sha256_of "$1").zip"
    aws s3 cp --only-show-errors "$1" "s3://$BUCKET/$key" >&2
    printf '%s\n' "$key"
}
LAYER_ARN=""
if [[ -n "$LAYER" ]]; then
    CODE_KEY="$(upload_zip "$(zip_of code)")"
    layer_key="$(upload_zip "$(zip_of layer)")"
    say "publishing the NumPy layer"
    LAYER_ARN="$(aws lambda publish-layer-version \
        --layer-name "$STACK-numpy-py${TARGET_PYTHON/./}-$ARCH" \
        --content "S3Bucket=$BUCKET,S3Key=$layer_key" \
        --compatible-runtimes "python$TARGET_PYTHON" --compatible-architectures "$ARCH" \
        --query LayerVersionArn --output text)"
else
    CODE_KEY="$(upload_zip "$(zip_of package)")"
fi

# 3. The stack, from a copy of template.yaml whose functions' CodeUri is the uploaded zip
# (in template.yaml it is `.`, which `sam build` builds with the Makefile). A given
# --template-file also keeps an earlier `sam build`'s .aws-sam/ out of this deploy.
# samconfig.toml holds the settings that never change (capabilities, no changeset prompt);
# everything that does is passed here.
DEPLOY_TEMPLATE="${DIST_DIR:-$ROOT/dist}/template-$STACK.yaml"
code_uri="s3://$BUCKET/$CODE_KEY"
sed -E "s|^( +)CodeUri: \.$|\1CodeUri: $code_uri|" "$ROOT/template.yaml" >"$DEPLOY_TEMPLATE"
functions="$(grep -c 'Type: AWS::Serverless::Function$' "$ROOT/template.yaml")"
[[ "$(grep -c "CodeUri: $code_uri\$" "$DEPLOY_TEMPLATE")" == "$functions" ]] ||
    die "template.yaml: every function's CodeUri must be '.' (the one line deploy.sh replaces)"
# Every parameter this script owns is passed, empty ones too: one left out would keep its
# value from the previous deploy (an old layer, an old version id). `sam deploy` refuses a
# bare "Name=", so each value is given in double quotes, which SAM removes.
overrides=()
for pair in "PythonVersion=$TARGET_PYTHON" "Architecture=$ARCH" "NumpyLayerArn=$LAYER_ARN" \
    "ModelS3Uri=$MODEL_S3_URI" "ModelS3Version=$MODEL_S3_VERSION" "ModelSha256=$MODEL_SHA256"; do
    overrides+=("${pair%%=*}=\"${pair#*=}\"")
done
cd "$ROOT"
"$SAM" deploy --template-file "$DEPLOY_TEMPLATE" --stack-name "$STACK" --region "$REGION" \
    --parameter-overrides "${overrides[@]}" ${EXTRA[@]+"${EXTRA[@]}"} >&2  # bash 3.2 too

# 4. Where it answers.
output_of() {
    aws cloudformation describe-stacks --stack-name "$STACK" \
        --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
PREDICT_URL="$(output_of PredictUrl)"
HEALTH_URL="$(output_of HealthUrl)"
[[ "$PREDICT_URL" == https://* ]] || die "stack $STACK has no PredictUrl output"
printf 'PREDICT_URL=%s\nHEALTH_URL=%s\nMODEL_SHA256=%s\n' "$PREDICT_URL" "$HEALTH_URL" "$MODEL_SHA256"
