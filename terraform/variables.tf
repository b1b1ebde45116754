variable "project" {
  description = "Short name used in resource names and tags."
  type        = string
  default     = "txn"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project: lower-case letters, digits and dashes, 2 to 21 characters."
  }
}

variable "environment" {
  description = "Deployment name (prod, staging, ...): part of names and of the SSM path."
  type        = string
  default     = "prod"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.environment))
    error_message = "environment: lower-case letters, digits and dashes, 2 to 16 characters."
  }
}

variable "aws_region" {
  description = "AWS region of every resource."
  type        = string
  default     = "us-east-1"
}

variable "availability_zones" {
  description = "Letters of the two availability zones used (the public subnet is in the first)."
  type        = list(string)
  default     = ["a", "b"]

  validation {
    condition     = length(var.availability_zones) == 2
    error_message = "availability_zones: exactly two zone letters."
  }
}

variable "vpc_cidr" {
  description = "Address range of the VPC; the subnets are carved out of it."
  type        = string
  default     = "10.40.0.0/16"
}

variable "admin_cidr" {
  description = "The only address range allowed to reach the host over SSH (e.g. your office's /32). No default on purpose."
  type        = string

  validation {
    condition     = can(cidrhost(var.admin_cidr, 0)) && var.admin_cidr != "0.0.0.0/0"
    error_message = "admin_cidr must be a CIDR block narrower than 0.0.0.0/0."
  }
}

variable "ssh_public_key" {
  description = "OpenSSH public key installed for the `ubuntu` user (the deploy job holds the private half)."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the Docker host (API, Dagster webserver, daemon and code server)."
  type        = string
  default     = "t3.large"
}

variable "root_volume_size_gb" {
  description = "Size of the host's encrypted root volume (images, Dagster logs)."
  type        = number
  default     = 40
}

variable "image_repository" {
  description = "GitHub repository whose ghcr.io image the host runs, as owner/name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9._-]+/[a-z0-9._-]+$", var.image_repository))
    error_message = "image_repository: owner/name in lower case (ghcr.io names are lower case)."
  }
}

variable "domain" {
  description = "Public DNS name of the API (TXN_DOMAIN): the reverse proxy gets a certificate for it from Let's Encrypt, so its A record must point at host_public_ip. Empty: the proxy serves HTTPS with a certificate from its own internal CA, which clients do not trust without being given that CA."
  type        = string
  default     = ""

  validation {
    condition     = var.domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain))
    error_message = "domain: a lower-case DNS name such as api.example.com, or empty."
  }
}

variable "generate_daily" {
  description = "Generate a day of simulated transactions every night (TXN_GENERATE_DAILY). Off in production: simulated rows must not mix with real ones unless asked for."
  type        = bool
  default     = false
}

variable "image_tag" {
  description = "Image tag the host starts with at first boot; later deploys move it."
  type        = string
  default     = "latest"
}

variable "db_instance_class" {
  description = "RDS instance class of the warehouse and Dagster storage."
  type        = string
  default     = "db.t4g.small"
}

variable "db_allocated_storage_gb" {
  description = "Initial RDS storage."
  type        = number
  default     = 20
}

variable "db_max_allocated_storage_gb" {
  description = "Ceiling of RDS storage autoscaling."
  type        = number
  default     = 200
}

variable "db_backup_retention_days" {
  description = "Days RDS keeps automated backups (point-in-time recovery window)."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be between 1 and 35."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database. Set to false only to tear the environment down."
  type        = bool
  default     = true
}

variable "db_multi_az" {
  description = "Run RDS with a synchronous standby in the second availability zone."
  type        = bool
  default     = false
}

variable "landing_prefix" {
  description = "Key prefix of the landing zone in the bucket (TXN_LANDING = s3://bucket/prefix)."
  type        = string
  default     = "landing"
}

variable "processed_transition_days" {
  description = "Days after which files under processed/ move to S3 Glacier Instant Retrieval."
  type        = number
  default     = 30
}

variable "processed_expiration_days" {
  description = "Days after which files under processed/ are deleted (their rows live in PostgreSQL)."
  type        = number
  default     = 400
}

variable "log_retention_days" {
  description = "Retention of CloudWatch logs (VPC flow logs, RDS logs)."
  type        = number
  default     = 365
}
