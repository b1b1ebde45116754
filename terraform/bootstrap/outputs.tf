output "state_bucket" {
  description = "bucket = ... of ../backend.hcl (GitHub variable TF_STATE_BUCKET)."
  value       = aws_s3_bucket.state.bucket
}

output "lock_table" {
  description = "dynamodb_table = ... of ../backend.hcl (GitHub variable TF_LOCK_TABLE)."
  value       = aws_dynamodb_table.lock.name
}

output "state_kms_key_arn" {
  description = "Key that encrypts the state bucket and the lock table."
  value       = aws_kms_key.state.arn
}

output "github_deploy_role_arn" {
  description = "Role ARN for the GitHub variable AWS_DEPLOY_ROLE_ARN (empty when github_repository is unset)."
  value       = try(aws_iam_role.github_deploy[0].arn, "")
}

output "workload_boundary_arn" {
  description = "Permissions boundary that ../ sets on every role it creates (the deploy role may create no other kind)."
  value       = aws_iam_policy.workload_boundary.arn
}
