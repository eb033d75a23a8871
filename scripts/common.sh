# Shared by the deploy scripts (sourced, not run): where AWS settings come from, said once.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The project's venv (the quick start makes it); PYTHON=... picks another interpreter.
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

say() { printf '%s\n' "$*" >&2; }
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }
die() { say "error: $*"; exit 1; }

# The region the AWS CLI itself would use: its configuration (`aws configure`), else
# AWS_REGION / AWS_DEFAULT_REGION. Callers export it, so that boto3 (upload.py) agrees.
resolve_region() {
    local region
    region="$(aws configure get region 2>/dev/null || true)"
    region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
    [[ -n "$region" ]] || die "no AWS region: run 'aws configure set region eu-west-1' (or export AWS_REGION)"
    printf '%s\n' "$region"
}

# The account the credentials belong to; stops here when there are none that work.
account_id() {
    local account
    account="$(aws sts get-caller-identity --query Account --output text)" \
        || die "the AWS credentials do not work (aws sts get-caller-identity failed): run 'aws configure'"
    [[ "$account" =~ ^[0-9]{12}$ ]] || die "aws sts get-caller-identity gave no account id"
    printf '%s\n' "$account"
}

sha256_of() {
    "$PYTHON" -c 'import hashlib, sys; print(hashlib.file_digest(open(sys.argv[1], "rb"), "sha256").hexdigest())' "$1"
}
