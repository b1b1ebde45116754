# Remote state for ../ : an S3 bucket (versioned, encrypted, private, TLS only) and a
# DynamoDB lock table; the permissions boundary of every role ../ creates (boundary.tf);
# optionally the IAM role the CD workflow assumes through GitHub's OIDC provider, so that
# no long-lived AWS key is stored in GitHub (github.tf).

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

locals {
  account_id   = data.aws_caller_identity.current.account_id
  partition    = data.aws_partition.current.partition
  state_bucket = "${var.project}-tfstate-${local.account_id}-${var.aws_region}"
  lock_table   = "${var.project}-tfstate-lock"

  # ../ sets this policy as the permissions boundary of each role it creates (main.tf
  # there builds the same ARN from the same name).
  workload_boundary_name = "${var.project}-workload-boundary"
  workload_boundary_arn  = "arn:${local.partition}:iam::${local.account_id}:policy/${local.workload_boundary_name}"
}

resource "aws_kms_key" "state" {
  description             = "${var.project}: Terraform state"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.state_key.json
}

data "aws_iam_policy_document" "state_key" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means this key only; administration stays with the account, which grants use through IAM.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means this key only; administration stays with the account, which grants use through IAM.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means this key only and cannot be narrowed further.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"] # in a key policy, "*" is this key
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_alias" "state" {
  name          = "alias/${var.project}-tfstate"
  target_key_id = aws_kms_key.state.key_id
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Only the deploy role writes state; server access logs would need a further, itself unlogged bucket here. Turn on CloudTrail S3 data events when object-level audit is required.
  #checkov:skip=CKV_AWS_144:State is versioned in-region; cross-region replication is not required for this project.
  #checkov:skip=CKV2_AWS_62:Nothing reacts to state writes.
  bucket = local.state_bucket

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days           = 90
      newer_noncurrent_versions = 20
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket     = aws_s3_bucket.state.id
  policy     = data.aws_iam_policy_document.state_bucket.json
  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_dynamodb_table" "lock" {
  name         = local.lock_table
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.state.arn
  }

  deletion_protection_enabled = true
}
