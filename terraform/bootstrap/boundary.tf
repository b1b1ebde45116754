# The permissions boundary of every role the platform's Terraform (../) creates: the
# Docker host's role, the VPC flow-logs role and the RDS monitoring role. A role's
# effective permissions are the intersection of its own policies and this boundary, so
# whatever the deploy role writes into a role's policies, that role can never do more
# than what is listed here: read and write the landing buckets' objects, read the
# project's SSM parameters, decrypt through S3 and SSM, write its own logs.
#
# It lives here, beside the deploy role, because the deploy role must not be able to
# change it (github.tf denies every edit of it); it exists whether or not the deploy role
# does, since ../ always sets it.

data "aws_iam_policy_document" "workload_boundary" {
  statement {
    sid       = "LandingBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = ["arn:${local.partition}:s3:::${var.project}-*-landing-${local.account_id}"]
  }

  statement {
    sid = "LandingObjects"
    actions = [
      "s3:GetObject",
      "s3:PutObject",
      "s3:DeleteObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
    ]
    resources = ["arn:${local.partition}:s3:::${var.project}-*-landing-${local.account_id}/*"]
  }

  statement {
    sid = "ProjectParameters"
    actions = [
      "ssm:GetParameter",
      "ssm:GetParameters",
      "ssm:GetParametersByPath",
    ]
    resources = [
      "arn:${local.partition}:ssm:*:${local.account_id}:parameter/${var.project}",
      "arn:${local.partition}:ssm:*:${local.account_id}:parameter/${var.project}/*",
    ]
  }

  # SecureString parameters and SSE-KMS objects: the key is used only through the two
  # services, never directly.
  statement {
    sid       = "KeysThroughS3AndSsm"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:*:${local.account_id}:key/*"]
    condition {
      test     = "StringLike"
      variable = "kms:ViaService"
      values   = ["s3.*.amazonaws.com", "ssm.*.amazonaws.com"]
    }
  }

  # VPC flow logs into /PROJECT/... log groups.
  statement {
    sid = "ProjectLogGroups"
    actions = [
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogGroups",
      "logs:DescribeLogStreams",
    ]
    resources = ["arn:${local.partition}:logs:*:${local.account_id}:log-group:/${var.project}/*"]
  }

  # What the AWS-managed AmazonRDSEnhancedMonitoringRole grants: RDS OS metrics into the
  # RDSOSMetrics log group.
  statement {
    sid = "RdsEnhancedMonitoring"
    actions = [
      "logs:CreateLogGroup",
      "logs:PutRetentionPolicy",
      "logs:CreateLogStream",
      "logs:PutLogEvents",
      "logs:DescribeLogStreams",
      "logs:GetLogEvents",
    ]
    resources = [
      "arn:${local.partition}:logs:*:${local.account_id}:log-group:RDS*",
      "arn:${local.partition}:logs:*:${local.account_id}:log-group:RDS*:log-stream:*",
    ]
  }

  # The Terraform state is never a workload's business, whatever a role's own policy says.
  statement {
    sid     = "NeverTheState"
    effect  = "Deny"
    actions = ["s3:*", "dynamodb:*", "kms:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
      aws_dynamodb_table.lock.arn,
      aws_kms_key.state.arn,
    ]
  }
}

resource "aws_iam_policy" "workload_boundary" {
  name        = local.workload_boundary_name
  description = "Permissions boundary of every role the ${var.project} platform's Terraform creates"
  policy      = data.aws_iam_policy_document.workload_boundary.json
}
