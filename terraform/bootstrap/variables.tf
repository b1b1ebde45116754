variable "project" {
  description = "Short name used in resource names."
  type        = string
  default     = "txn"
}

variable "aws_region" {
  description = "Region of the state bucket and lock table, and of the platform: the deploy role's EC2, RDS, SSM, KMS and log permissions are limited to it."
  type        = string
  default     = "us-east-1"
}

variable "github_repository" {
  description = "owner/name of the GitHub repository whose CD workflow may assume the deploy role (OIDC). Empty: no role is created."
  type        = string
  default     = ""
}

variable "github_oidc_provider_exists" {
  description = "Set to true when the account already has the token.actions.githubusercontent.com OIDC provider."
  type        = bool
  default     = false
}
