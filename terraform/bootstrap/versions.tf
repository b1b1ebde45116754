terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
  }

  # This configuration creates the remote state's bucket and lock table, so its own
  # state stays local (keep terraform.tfstate of this folder somewhere safe, or move it
  # into the new bucket afterwards with a backend block and `terraform init -migrate-state`).
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = {
      Project   = var.project
      ManagedBy = "terraform"
      Purpose   = "terraform-state"
    }
  }
}
