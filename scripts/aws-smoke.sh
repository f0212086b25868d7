#!/usr/bin/env bash
# Probes, in a deployed account, the AWS behaviour sessiontrail relies on and that no emulator here
# can show (infra/README.md, "What stays unverifiable without an account"). Run it after
# `npx cdk deploy --all`, with credentials of an operator of that account:
#
#   bash scripts/aws-smoke.sh [--name sessiontrail] [--region eu-west-1] [--build]
#
# Each probe prints PROVEN, NOT PROVEN (the behaviour differs from the assumption: read the reason)
# or SKIPPED (what it needs is missing), and the script exits with the number of NOT PROVEN probes.
#
#  1. Athena takes a `?` in the WHERE clause of a Parquet CTAS, with a typed execution parameter
#     (the shape lib/query/athena/athena-engine.ts sends), and a Unicode literal `U&'…'` (the form
#     lib/query/sql.ts writes for values holding control characters).
#  2. Athena reports the CTAS row count as `UpdateCount` (otherwise the engine counts with a SELECT).
#  3. Athena still refuses `?` outside WHERE (why values there are literals); informational.
#  4. The exporter roles may list the evidence folder by prefix (ListObjectsV2, the existence check),
#     and may not list the bucket without a prefix (so HeadObject of a missing key would be a 403):
#     IAM policy simulation of the roles, then a `status` of a pack that does not exist, answered by
#     the on-demand function under its own role.
#  5. KMS signs a SHA-256 DIGEST with the signing key and openssl verifies it against the published
#     key (only with --build: it builds a one-hour audit pack, which runs Athena queries).
#  6. The CloudTrail table's rows of the last two days fit Athena's 32 MB row limit: the table reads
#     the staged per-record copies (one record per line, lib/sources/cloudtrail-raw-table.ts); the
#     largest staged copy of each projected account and region is downloaded and its longest line
#     measured (a staged copy exists once a pack has read that day).
#
# Athena probes 1-3 run under the operator's credentials in the sessiontrail workgroup, as the
# roles' queries do; they create and drop one table in the work database. Needs: aws CLI v2, openssl.
set -uo pipefail

name=sessiontrail
build=false
region_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name="$2"; shift 2 ;;
    --region) region_args=(--region "$2"); shift 2 ;;
    --build) build=true; shift ;;
    -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

aws_() { aws "${region_args[@]}" "$@"; }
not_proven=0
report() { # status, probe, detail
  printf '%-12s %s: %s\n' "$1" "$2" "$3"
  [ "$1" = "NOT PROVEN" ] && not_proven=$((not_proven + 1))
  return 0
}
output_of() { # stack, part of the output key
  aws_ cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?contains(OutputKey, '$2')].OutputValue | [0]" --output text 2>/dev/null
}

work_group=$(output_of "$name-exporter" WorkGroupName)
function_name=$(output_of "$name-exporter" OnDemandFunctionName)
bucket=$(output_of "$name-storage" EvidenceBucketName)
key_arn=$(output_of "$name-storage" SigningKeyArn)
work_db="${name//-/_}_work"
if [ -z "$work_group" ] || [ "$work_group" = None ] || [ -z "$bucket" ] || [ "$bucket" = None ]; then
  echo "cannot read the outputs of stacks $name-exporter and $name-storage: deployed, and this region?" >&2
  exit 2
fi
prefix=$(aws_ lambda get-function-configuration --function-name "$function_name" \
  --query 'Environment.Variables.SESSIONTRAIL_EVIDENCE_PREFIX' --output text)
role_arn=$(aws_ lambda get-function-configuration --function-name "$function_name" --query Role --output text)
echo "workgroup $work_group, work database $work_db, evidence s3://$bucket/$prefix/, role $role_arn"

# Runs one Athena statement; prints "<state> <query id> <reason>".
athena() { # sql, [execution parameters...]
  local sql="$1"; shift
  local params=()
  [ $# -gt 0 ] && params=(--execution-parameters "$@")
  local id
  id=$(aws_ athena start-query-execution --work-group "$work_group" \
    --query-execution-context "Database=$work_db" --query-string "$sql" "${params[@]}" \
    --query QueryExecutionId --output text 2>&1) || { echo "REFUSED - ${id//$'\n'/ }"; return; }
  local state
  for _ in $(seq 1 120); do
    state=$(aws_ athena get-query-execution --query-execution-id "$id" --query 'QueryExecution.Status.State' --output text)
    case "$state" in SUCCEEDED|FAILED|CANCELLED) break ;; esac
    sleep 2
  done
  local reason
  reason=$(aws_ athena get-query-execution --query-execution-id "$id" \
    --query 'QueryExecution.Status.StateChangeReason' --output text)
  echo "$state $id $reason"
}

# 1 and 2: a CTAS with ? in WHERE, typed parameter, Unicode literal; its UpdateCount.
table="smoke_$(date +%s)_$RANDOM"
read -r state id reason < <(athena "CREATE TABLE \"$work_db\".\"$table\" WITH (format = 'PARQUET') AS
SELECT v, length(U&'a\\0000b') AS n FROM (VALUES ('a', BIGINT '1'), ('b', BIGINT '2')) AS t(v, k) WHERE v = ? AND k = ?" "'a'" "BIGINT '1'")
if [ "$state" = SUCCEEDED ]; then
  report PROVEN "? in WHERE of a Parquet CTAS" "typed parameters 'a' and BIGINT '1' bound (query $id)"
  count=$(aws_ athena get-query-results --query-execution-id "$id" --max-results 1 --query UpdateCount --output text)
  if [ "$count" = 1 ]; then
    report PROVEN "CTAS UpdateCount" "Athena reported 1 row written"
  else
    report "NOT PROVEN" "CTAS UpdateCount" "Athena reported '$count' (the engine falls back to SELECT count(*))"
  fi
  read -r state2 id2 _ < <(athena "SELECT n FROM \"$work_db\".\"$table\"")
  n=$(aws_ athena get-query-results --query-execution-id "$id2" --query 'ResultSet.Rows[1].Data[0].VarCharValue' --output text 2>/dev/null)
  if [ "$state2" = SUCCEEDED ] && [ "$n" = 3 ]; then
    report PROVEN "Unicode literal U&'a\\0000b'" "read back as 3 characters"
  else
    report "NOT PROVEN" "Unicode literal U&'a\\0000b'" "state $state2, length '$n' (expected 3)"
  fi
  athena "DROP TABLE IF EXISTS \`$work_db\`.\`$table\`" >/dev/null
else
  report "NOT PROVEN" "? in WHERE of a Parquet CTAS" "$state $id $reason"
  report SKIPPED "CTAS UpdateCount" "the CTAS did not run"
fi

# 3: ? outside WHERE (Athena user guide: not supported).
read -r state id reason < <(athena "SELECT ? AS v" "'x'")
if [ "$state" = SUCCEEDED ]; then
  report PROVEN "? outside WHERE" "Athena now accepts SELECT ? (query $id): the literals are still correct"
else
  report PROVEN "? outside WHERE" "refused as documented ($state: ${reason:0:120}), so values there are literals"
fi

# 4: existence checks under the roles.
for role in $(aws_ lambda list-functions --query "Functions[?starts_with(FunctionName, '$name-')].Role" --output text | tr '\t' '\n' | sort -u); do
  listed=$(aws_ iam simulate-principal-policy --policy-source-arn "$role" --action-names s3:ListBucket \
    --resource-arns "arn:aws:s3:::$bucket" \
    --context-entries "ContextKeyName=s3:prefix,ContextKeyValues=$prefix/smoke/pack/manifest.sig,ContextKeyType=string" \
    --query 'EvaluationResults[0].EvalDecision' --output text 2>&1)
  bare=$(aws_ iam simulate-principal-policy --policy-source-arn "$role" --action-names s3:ListBucket \
    --resource-arns "arn:aws:s3:::$bucket" --query 'EvaluationResults[0].EvalDecision' --output text 2>&1)
  if [ "$listed" = allowed ] && [ "$bare" != allowed ]; then
    report PROVEN "ListObjectsV2(Prefix) under ${role##*/}" "allowed with s3:prefix, $bare without (HeadObject of a missing key would be 403)"
  else
    report "NOT PROVEN" "ListObjectsV2(Prefix) under ${role##*/}" "with prefix: $listed; without: $bare"
  fi
done
answer=$(mktemp)
aws_ lambda invoke --function-name "$function_name" --cli-binary-format raw-in-base64-out \
  --payload '{"action":"status","series":"smoke","packId":"audit-2000-01-01-000000000000"}' "$answer" >/dev/null 2>&1
if grep -q '"not_started"' "$answer"; then
  report PROVEN "status of a missing pack" "answered not_started under the function's role: $(head -c 200 "$answer")"
else
  report "NOT PROVEN" "status of a missing pack" "$(head -c 300 "$answer")"
fi

# 5: KMS DIGEST signing, verified with openssl against the key the pack publishes.
if [ "$build" = true ]; then
  from=$(date -u -d '2 days ago' +%Y-%m-%dT00:00:00Z 2>/dev/null || date -u -v-2d +%Y-%m-%dT00:00:00Z)
  to=$(date -u -d '2 days ago' +%Y-%m-%dT01:00:00Z 2>/dev/null || date -u -v-2d +%Y-%m-%dT01:00:00Z)
  aws_ lambda invoke --function-name "$function_name" --cli-binary-format raw-in-base64-out --cli-read-timeout 0 \
    --payload "{\"action\":\"export\",\"kind\":\"audit\",\"series\":\"smoke\",\"from\":\"$from\",\"to\":\"$to\",\"hosts\":[\"aws-smoke-probe\"],\"requester\":\"aws-smoke\",\"reason\":\"post-deploy probe\",\"wait\":true}" \
    "$answer" >/dev/null 2>&1
  # The answer's location is s3://<bucket>/<prefix>/<series>/<pack id>.
  location=$(grep -o '"location":"s3://[^"]*"' "$answer" | head -1 | cut -d'"' -f4)
  work=$(mktemp -d)
  if [ -n "$location" ] &&
    aws_ s3 cp "$location/manifest.json" "$work/manifest.json" >/dev/null &&
    aws_ s3 cp "$location/manifest.sig" "$work/manifest.sig" >/dev/null; then
    key_id=$(grep -o '"key_id":"[^"]*"' "$work/manifest.json" | head -1 | cut -d'"' -f4)
    aws_ s3 cp "s3://$bucket/$prefix/keys/$key_id.pem" "$work/key.pem" >/dev/null
    if openssl dgst -sha256 -verify "$work/key.pem" -signature "$work/manifest.sig" "$work/manifest.json" >/dev/null 2>&1; then
      report PROVEN "KMS DIGEST signing" "$location/manifest.sig verifies with openssl against keys/$key_id.pem"
    else
      report "NOT PROVEN" "KMS DIGEST signing" "openssl does not verify $location/manifest.sig"
    fi
  else
    report "NOT PROVEN" "KMS DIGEST signing" "no sealed pack: $(head -c 300 "$answer")"
  fi
  rm -rf "$work"
else
  report SKIPPED "KMS DIGEST signing" "run with --build (builds a one-hour audit pack in series smoke)"
fi
rm -f "$answer"

# 6: CloudTrail rows against Athena's 32 MB row limit (Athena user guide, "Service Quotas").
raw_db="${name//-/_}_raw"
row_limit=$((32 * 1024 * 1024))
ct_location=$(aws_ glue get-table --database-name "$raw_db" --name cloudtrail_raw \
  --query 'Table.StorageDescriptor.Location' --output text 2>/dev/null)
if [ -z "$ct_location" ] || [ "$ct_location" = None ]; then
  report SKIPPED "CloudTrail rows under 32 MB" "no table $raw_db.cloudtrail_raw (CloudTrail not deployed)"
else
  accounts=$(aws_ glue get-table --database-name "$raw_db" --name cloudtrail_raw \
    --query 'Table.Parameters."projection.account.values"' --output text)
  regions=$(aws_ glue get-table --database-name "$raw_db" --name cloudtrail_raw \
    --query 'Table.Parameters."projection.region.values"' --output text)
  ct_bucket=${ct_location#s3://}; ct_prefix=${ct_bucket#*/}; ct_bucket=${ct_bucket%%/*}
  largest=0; largest_key=""; measured=0
  for day_ago in 1 2; do
    day=$(date -u -d "$day_ago days ago" +%Y/%m/%d 2>/dev/null || date -u -v-"$day_ago"d +%Y/%m/%d)
    for account in ${accounts//,/ }; do
      for region in ${regions//,/ }; do
        key=$(aws_ s3api list-objects-v2 --bucket "$ct_bucket" --prefix "${ct_prefix}$account/CloudTrail/$region/$day/" \
          --query 'sort_by(Contents, &Size)[-1].Key' --output text 2>/dev/null)
        [ -z "$key" ] || [ "$key" = None ] && continue
        size=$(aws_ s3 cp "s3://$ct_bucket/$key" - | gzip -dc 2>/dev/null | LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }')
        measured=$((measured + 1))
        if [ "$size" -gt "$largest" ]; then largest=$size; largest_key=$key; fi
      done
    done
  done
  if [ "$measured" = 0 ]; then
    report SKIPPED "CloudTrail rows under 32 MB" "no staged CloudTrail copy in the last two days under $ct_location"
  elif [ "$largest" -lt "$row_limit" ]; then
    report PROVEN "CloudTrail rows under 32 MB" "longest line of $measured copies measured: $largest bytes (s3://$ct_bucket/$largest_key)"
  else
    report "NOT PROVEN" "CloudTrail rows under 32 MB" "s3://$ct_bucket/$largest_key has a line of $largest bytes: Athena refuses it as one row"
  fi
fi
echo "$not_proven probe(s) not proven"
exit "$not_proven"
